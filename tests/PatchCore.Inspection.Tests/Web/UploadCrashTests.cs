using System.Collections.Concurrent;
using System.Net.Http.Headers;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>
/// The daemon as a child process killed with SIGKILL while uploads are on their way (a ticket just made durable, an
/// upload just renamed into the inbox), then started again: every upload that was accepted (its ticket was written) has
/// exactly one record, under the id it was given, and nothing is left in the inbox or its uploads folder.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class UploadCrashTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task UploadsKilledBetweenTheirUploadAndTheirRecordGetExactlyOneRecordAfterTheRestart()
    {
        using var folders = new DaemonFolders(bank.BankA);
        byte[] image = File.ReadAllBytes(bank.Defects[0]);
        string uploads = Path.Combine(folders.Inbox, ".inspection", "uploads");
        string[] args = [.. bank.ThresholdArgs, "--Inspection:SettleMs=200"];
        var accepted = new ConcurrentDictionary<string, string>(); // ticket id -> when it was seen
        var points = new (string Name, Func<string, bool> Matches)[]
        {
            ("a ticket is durable, its image not yet in the inbox", path => Path.GetDirectoryName(path) == uploads && path.EndsWith(".json", StringComparison.Ordinal)),
            ("an upload has just been renamed into the inbox", path => Path.GetDirectoryName(path) == folders.Inbox && Path.GetFileName(path).StartsWith("upload-", StringComparison.Ordinal)),
        };
        foreach (var (round, (point, matches)) in points.Index())
        {
            var (daemon, address) = await StationProcess.StartAsync(folders, args);
            using (daemon)
            {
                Directory.CreateDirectory(uploads);
                using var watcher = new FileSystemWatcher(folders.Inbox) { IncludeSubdirectories = true };
                var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                void Seen(string path)
                {
                    if (Path.GetDirectoryName(path) == uploads && Path.GetExtension(path) == ".json")
                        accepted.TryAdd(Path.GetFileNameWithoutExtension(path), point);
                    if (matches(path)) fired.TrySetResult();
                }
                watcher.Created += (_, e) => Seen(e.FullPath);
                watcher.Renamed += (_, e) => Seen(e.FullPath);
                watcher.EnableRaisingEvents = true;

                using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
                var sends = Enumerable.Range(0, 6).Select(i => SendAsync(client, image, $"round{round}-{i}.png")).ToArray();
                bool seen = await Task.WhenAny(fired.Task, Task.Delay(TimeSpan.FromMinutes(1))) == fired.Task;
                daemon.KillHard();
                int answered = (await Task.WhenAll(sends)).Count(ok => ok);
                output.WriteLine($"kill -9 {(seen ? "" : "(not seen: on timeout) ")}when {point}: {answered} of {sends.Length} uploads answered before, " +
                                 $"records {folders.Records().Count}, tickets {Directory.GetFiles(uploads, "*.json").Length}, inbox {folders.InboxImages().Length}");
            }
        }

        using (var restarted = DaemonProcess.Start(folders.Args(args)))
        {
            try
            {
                await Eventually.True(() => Directory.GetFileSystemEntries(uploads).Length == 0 && folders.InboxImages().Length == 0 && folders.Records().Count >= accepted.Count,
                    "every accepted upload to be recorded after the restart", TimeSpan.FromMinutes(3));
            }
            catch
            {
                output.WriteLine("left in the uploads folder: " + string.Join(", ", Directory.GetFileSystemEntries(uploads)) + "; inbox: " + string.Join(", ", folders.InboxImages()) + $"; records {folders.Records().Count} accepted {accepted.Count}");
                output.WriteLine(restarted.Log);
                throw;
            }
            await Task.Delay(700); // the last batch's moves
            restarted.Terminate();
            Assert.True(restarted.WaitForExit(TimeSpan.FromMinutes(1)), "no exit after SIGTERM");
        }

        var records = folders.Records();
        Assert.NotEmpty(accepted);
        foreach (var (id, point) in accepted)
        {
            var mine = records.Where(r => r.GetProperty("id").GetString() == id).ToArray();
            Assert.True(mine.Length == 1, $"upload {id} (accepted when {point}): {mine.Length} records");
            Assert.Equal("http", mine[0].GetProperty("submission").GetProperty("source").GetString());
        }
        // Nothing recorded that was never accepted, and each record's image lies in one place.
        Assert.All(records, r => Assert.True(accepted.ContainsKey(r.GetProperty("id").GetString()!), $"a record for {r.GetProperty("originalName")} that was never accepted"));
        folders.AssertEachExactlyOnce(records.Select(r => r.GetProperty("originalName").GetString()!).ToArray());
    }

    /// <summary>Sends an upload; true when it was answered, false when the connection died with the daemon.</summary>
    private static async Task<bool> SendAsync(HttpClient client, byte[] image, string name)
    {
        using var content = new ByteArrayContent(image);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/inspect") { Content = content };
        request.Headers.Add("X-Original-Name", name);
        try
        {
            using var response = await client.SendAsync(request);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
