using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>
/// Headless Debian chromium driven through chromium-driver, with a fresh profile that is deleted afterwards, and no
/// network traffic of its own (no component updates, no sync, no QUIC, no first-run pages): the tests send it only to
/// the daemon on loopback. The driver is named explicitly, so Selenium never runs its driver manager (which would
/// download one).
/// </summary>
internal sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium", DriverPath = "/usr/bin/chromedriver";

    private readonly string _profile;

    private Browser(ChromeDriver driver, string profile)
    {
        Driver = driver;
        _profile = profile;
    }

    public ChromeDriver Driver { get; }

    /// <summary>What is missing for a browser test, or null.</summary>
    public static string? Missing() =>
        !File.Exists(ChromiumPath) ? $"{ChromiumPath} is missing" : !File.Exists(DriverPath) ? $"{DriverPath} is missing" : null;

    public static Browser Start(int width = 1440, int height = 1080)
    {
        if (Missing() is { } missing)
            throw new Xunit.Sdk.XunitException($"{missing}: install Debian's chromium and chromium-driver (bash tools/install-deps.sh).");
        string profile = Directory.CreateTempSubdirectory("patchcore-chromium-").FullName;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            $"--user-data-dir={profile}", $"--window-size={width},{height}", "--force-device-scale-factor=1");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        try
        {
            return new Browser(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)), profile);
        }
        catch
        {
            service.Dispose();
            Directory.Delete(profile, recursive: true);
            throw;
        }
    }

    /// <summary>Runs <paramref name="script"/> in the page and returns its result.</summary>
    public T Script<T>(string script, params object[] args) => (T)Driver.ExecuteScript(script, args)!;

    public void Screenshot(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Driver.GetScreenshot().SaveAsFile(path);
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try { Directory.Delete(_profile, recursive: true); }
        catch (IOException) { } // chromium's helpers may still be closing files
    }
}
