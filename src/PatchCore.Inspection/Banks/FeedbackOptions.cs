namespace PatchCore.Inspection.Banks;

/// <summary>
/// The operator's feedback (<c>Inspection:Feedback</c>): images judged review or ng that a person found good, moved
/// into the product's <c>feedback/good/</c>, update the product's bank in the background (<see cref="BankFeedback"/>).
/// Needs each product's bank given as a <c>NAME.current</c> pointer, so a new version can be made current.
/// </summary>
internal sealed class FeedbackOptions
{
    /// <summary>False (the default): feedback folders are not looked at.</summary>
    public bool Enabled { get; set; }

    /// <summary>An update starts once this many checked images wait for one product.</summary>
    public int MinImages { get; set; } = 5;

    /// <summary>Also start an update when the oldest waiting image has waited this many minutes, however few wait; null = only by count.</summary>
    public double? IntervalMinutes { get; set; }

    /// <summary>Cap on the vectors one update adds to the bank (its growth); null = no cap (the coverage rule alone).</summary>
    public int? MaxAddedVectors { get; set; } = 5000;

    /// <summary>
    /// An update whose new ng threshold is more than this factor times the old one is written but not made current: it
    /// waits for confirmation (an operator creates <c>feedback/confirm</c>), and the journal and health say why.
    /// </summary>
    public double MaxThresholdRise { get; set; } = 1.25;

    /// <summary>Share of the feedback images held out to recalibrate the thresholds (0 = all go into the bank).</summary>
    public double HoldOutFraction { get; set; } = 0.1;

    /// <summary>Bytes (MB) one batch or search chunk of the update may use: keeps the background work's memory small.</summary>
    public int WorkBudgetMb { get; set; } = 256;

    /// <summary>How often the feedback folders are looked at.</summary>
    public int PollIntervalMs { get; set; } = 2000;
}
