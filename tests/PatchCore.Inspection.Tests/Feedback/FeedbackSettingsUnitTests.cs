using Xunit;

namespace PatchCore.Inspection.Tests.Feedback;

/// <summary>The feedback and drift settings are checked at start, and feedback needs version pointers.</summary>
public sealed class FeedbackSettingsUnitTests : IDisposable
{
    private readonly DaemonFolders _folders = new();

    public FeedbackSettingsUnitTests()
    {
        File.WriteAllText(_folders.Bank, "fake");
        File.WriteAllText(Path.Combine(_folders.Root, "bank", "cap.current"), "cap.v1.pcbank\n");
    }

    private InspectionOptions Options(Action<InspectionOptions> change)
    {
        var o = new InspectionOptions { Inbox = _folders.Inbox, Outbox = _folders.Outbox, Bank = Path.Combine(_folders.Root, "bank", "cap.current") };
        change(o);
        return o;
    }

    private static IReadOnlyList<string> Errors(InspectionOptions o) =>
        new InspectionOptionsValidator().Validate(null, o).Failures?.ToList() ?? [];

    [Fact]
    public void FeedbackOnAPlainBankFileIsRefusedNamingTheKey()
    {
        var errors = Errors(Options(o => { o.Bank = _folders.Bank; o.Feedback.Enabled = true; }));
        Assert.Contains(errors, e => e.Contains("Inspection:Feedback:Enabled needs versioned banks", StringComparison.Ordinal) && e.Contains(_folders.Bank, StringComparison.Ordinal));
    }

    [Fact]
    public void FeedbackOnAPointerAndTheDefaultsAreAccepted()
    {
        Assert.Empty(Errors(Options(o => o.Feedback.Enabled = true)));
    }

    [Fact]
    public void BadFeedbackAndDriftSettingsAreRefusedNamingTheirKeys()
    {
        var errors = Errors(Options(o =>
        {
            o.Feedback.MinImages = 0;
            o.Feedback.MaxThresholdRise = 0.9;
            o.Feedback.HoldOutFraction = 1;
            o.Feedback.IntervalMinutes = -1;
            o.Drift.Window = 1;
            o.Drift.WarnAt = 0;
        }));
        foreach (string key in new[] { "Feedback:MinImages", "Feedback:MaxThresholdRise", "Feedback:HoldOutFraction", "Feedback:IntervalMinutes", "Drift:Window", "Drift:WarnAt" })
            Assert.Contains(errors, e => e.Contains("Inspection:" + key, StringComparison.Ordinal));
    }

    public void Dispose() => _folders.Dispose();
}
