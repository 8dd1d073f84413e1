using Microsoft.Extensions.DependencyInjection;
using PatchCore.Inspection.Outbox;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Tests;

/// <summary>The reconciler finishing what a crash left, set up by hand: records after the checkpoint, images at every step of their move.</summary>
public sealed class ReconcilerUnitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EveryRecordedImageEndsInItsPlaceAndAnUnrecordedStagedFileGoesBack()
    {
        using var folders = FakeDaemon.NewFolders();
        await using var daemon = new FakeDaemon(folders, output); // not started: its parts are wired as in the daemon
        var layout = daemon.Host.Services.GetRequiredService<Layout>();
        var journal = daemon.Host.Services.GetRequiredService<IResultLog>();
        var reconciler = daemon.Host.Services.GetRequiredService<Reconciler>();
        daemon.Mover.Plan.FailCalls(FailurePlan.PermissionDenied, 1);
        Directory.CreateDirectory(layout.StagingFolder);

        // Crashed right after the append: still in the inbox.
        var inInbox = Record(layout, "inbox.png", Verdict.Ok);
        File.WriteAllText(inInbox.InboxPath, "inbox.png");
        // Crashed between the two renames: in staging.
        var staged = Record(layout, "staged.png", Verdict.Ng);
        File.WriteAllText(layout.StagingPath(staged.Id, staged.OriginalName), "staged.png");
        // Crashed after the move, before the checkpoint: already there.
        var arrived = Record(layout, "arrived.png", Verdict.Ok);
        Directory.CreateDirectory(Path.GetDirectoryName(arrived.Path)!);
        File.WriteAllText(arrived.Path, "arrived.png");
        // Quarantined, its reason file not yet written.
        var quarantined = Record(layout, "q.png", Verdict.Quarantined) with { Reason = "zero-byte file" };
        File.WriteAllText(quarantined.InboxPath, "q.png");
        // Removed by hand after it was recorded.
        var lost = Record(layout, "lost.png", Verdict.Ok);
        // A staged file without a record (cannot happen in order; is taken again rather than lost).
        File.WriteAllText(Path.Combine(layout.StagingFolder, "0000orphan.png"), "orphan");

        journal.Append([inInbox, staged, arrived, quarantined, lost]);
        Assert.Equal(3, await reconciler.RunAsync(CancellationToken.None));

        foreach (var record in new[] { inInbox, staged, arrived, quarantined })
            Assert.Equal(record.OriginalName, File.ReadAllText(record.Path));
        Assert.Contains("zero-byte file", File.ReadAllText(Layout.ReasonPath(quarantined.Path)));
        Assert.Empty(Directory.GetFiles(layout.StagingFolder));
        Assert.Equal(["recovered-0000orphan.png"], folders.InboxImages().Select(Path.GetFileName));
        Assert.Equal(["inbox.png", "q.png", "staged.png"], daemon.Events(304).Select(e => e.GetStructuredStateValue("Name")).Order());
        Assert.Equal("lost.png", Assert.Single(daemon.Events(305)).GetStructuredStateValue("Name"));
        Assert.Single(daemon.Events(306));
        Assert.Single(daemon.Events(211)); // the permission denied, retried
        Assert.Equal(journal.Length, Checkpoint.Read(layout.CheckpointFile));

        // Everything up to the checkpoint is done: a second run finds nothing to do.
        Assert.Equal(0, await reconciler.RunAsync(CancellationToken.None));
        Assert.Single(daemon.Events(305));
    }

    /// <summary>
    /// The same after a crash in a batch of products and links: a product's image still in its inbox folder, a quarantined
    /// link to a folder caught in staging, a link to a file already in the quarantine; and an unrecorded link in staging.
    /// Each link ends as the link, its target untouched.
    /// </summary>
    [Fact]
    public async Task ProductImagesAndQuarantinedLinksAreFinishedAsLinksAfterACrash()
    {
        using var folders = FakeDaemon.NewFolders();
        await using var daemon = new FakeDaemon(folders, output); // not started: its parts are wired as in the daemon
        var layout = daemon.Host.Services.GetRequiredService<Layout>();
        var journal = daemon.Host.Services.GetRequiredService<IResultLog>();
        var reconciler = daemon.Host.Services.GetRequiredService<Reconciler>();
        Directory.CreateDirectory(layout.StagingFolder);
        string target = Directory.CreateDirectory(Path.Combine(folders.Root, "elsewhere")).FullName;
        File.WriteAllText(Path.Combine(target, "inner.png"), "0.9");

        // A product's image, recorded, still in Inbox/cap/.
        var when = DateTimeOffset.UtcNow;
        Directory.CreateDirectory(Path.Combine(folders.Inbox, "cap"));
        var image = Record(layout, "cap.png", Verdict.Ok) with
        {
            Path = Path.Combine(layout.DestinationFolder(Verdict.Ok, when, "cap"), "cap.png"),
            InboxPath = Path.Combine(folders.Inbox, "cap", "cap.png"),
            Product = "cap",
        };
        File.WriteAllText(image.InboxPath, "cap.png");
        // A link to a folder, caught between its two renames.
        var staged = LinkRecord(layout, "to-folder", target, "cap");
        File.CreateSymbolicLink(layout.StagingPath(staged.Id, staged.OriginalName), target);
        // A link to a file that reached the quarantine before the crash (its reason file not yet written).
        var arrived = LinkRecord(layout, "to-file.png", Path.Combine(target, "inner.png"), null);
        Directory.CreateDirectory(Path.GetDirectoryName(arrived.Path)!);
        File.CreateSymbolicLink(arrived.Path, Path.Combine(target, "inner.png"));
        // A link in staging without a record: it goes back to the inbox as a link.
        Directory.CreateSymbolicLink(Path.Combine(layout.StagingFolder, "0000orphan"), target);

        journal.Append([image, staged, arrived]);
        Assert.Equal(2, await reconciler.RunAsync(CancellationToken.None));

        Assert.Equal("cap.png", File.ReadAllText(image.Path));
        Assert.StartsWith(Path.Combine(folders.Outbox, "cap", "ok") + Path.DirectorySeparatorChar, image.Path);
        Assert.Equal(target, new FileInfo(staged.Path).LinkTarget);
        Assert.Equal(Path.Combine(target, "inner.png"), new FileInfo(arrived.Path).LinkTarget);
        Assert.Contains("symbolic link", File.ReadAllText(Layout.ReasonPath(staged.Path)));
        Assert.Contains("symbolic link", File.ReadAllText(Layout.ReasonPath(arrived.Path)));
        Assert.Empty(Directory.GetFileSystemEntries(layout.StagingFolder));
        Assert.Equal(target, new FileInfo(Path.Combine(folders.Inbox, "recovered-0000orphan")).LinkTarget);
        Assert.Equal("0.9", File.ReadAllText(Path.Combine(target, "inner.png")));
        Assert.Equal(["inner.png"], Directory.GetFileSystemEntries(target).Select(Path.GetFileName));
    }

    private static InspectionRecord LinkRecord(Layout layout, string name, string target, string? product) =>
        Record(layout, name, Verdict.Quarantined) with
        {
            Path = Path.Combine(layout.DestinationFolder(Verdict.Quarantined, DateTimeOffset.UtcNow, product), name),
            InboxPath = Path.Combine(layout.ProductInbox(product ?? "default"), name),
            Sha256 = null,
            Size = System.Text.Encoding.UTF8.GetByteCount(target),
            Reason = $"a symbolic link (to {target}): links in the inbox are never followed",
            Product = product,
        };

    [Fact]
    public async Task ARecordTornByACrashIsCutAndItsImageIsScoredAgain()
    {
        using var folders = FakeDaemon.NewFolders();
        Directory.CreateDirectory(folders.Outbox);
        folders.DropText("torn.png", "0.2");
        File.WriteAllText(folders.ResultsFile, "{\"id\":\"0195f0c2\",\"path\":\"" + folders.Outbox + "/ok/to"); // no newline: torn
        await using (var daemon = await FakeDaemon.StartAsync(folders, output))
        {
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            Assert.Single(daemon.Events(301));
        }
        folders.AssertEachExactlyOnce(["torn.png"]);
        Assert.Single(File.ReadAllLines(folders.ResultsFile));
    }

    private static InspectionRecord Record(Layout layout, string name, Verdict verdict)
    {
        var when = DateTimeOffset.UtcNow;
        string path = Path.Combine(layout.DestinationFolder(verdict, when), name);
        return new InspectionRecord
        {
            Id = Guid.CreateVersion7().ToString("N"),
            Path = path,
            OriginalName = name,
            InboxPath = Path.Combine(layout.Inbox, name),
            Sha256 = DaemonFolders.Sha256Of(name),
            Size = name.Length,
            Verdict = verdict,
            ReceivedAt = when,
            ScoredAt = when,
        };
    }
}
