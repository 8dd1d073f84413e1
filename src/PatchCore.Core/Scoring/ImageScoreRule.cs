namespace PatchCore.Core.Scoring;

/// <summary>How an image's score is read from its patches and anomaly map. Stored in the bank with the thresholds it needs.</summary>
public enum ImageScoreRule
{
    /// <summary>The paper's: the highest patch distance.</summary>
    Max,
    /// <summary>
    /// The anomaly map's largest excess over what the held-out good images show at the same place, in their standard
    /// deviations (<see cref="PositionStatistics"/>). For parts that sit in the same place in every image (a fixture,
    /// a conveyor stop): normal structures that score high on good parts too, such as edges, borders, seams or
    /// markings, stop deciding the image score, and a small defect elsewhere stands out. Needs one input size.
    /// </summary>
    Position,
    /// <summary>
    /// A build's choice, never stored (the default): <see cref="Position"/> when the held-out good images give at least
    /// <see cref="PositionStatistics.MinImages"/> anomaly maps of one size, otherwise <see cref="Max"/>. The bank
    /// stores the rule chosen and why (<see cref="MemoryBank.Calibration.ImageScoreChoice"/>).
    /// </summary>
    Auto,
}
