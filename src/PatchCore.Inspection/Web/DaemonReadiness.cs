using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Processing;

namespace PatchCore.Inspection.Web;

/// <summary>
/// <c>/readyz</c>: ready when the worker is running (its start reconciled the outbox; it is neither stopping nor failed)
/// and every product has an accepted bank (loaded, or unloaded to stay in the memory budget and loadable again);
/// unhealthy (503) otherwise, saying why. <c>/healthz</c> only says the process answers.
/// </summary>
internal sealed class DaemonReadiness : IHealthCheck
{
    public const string Tag = "ready";

    private readonly DaemonStatus _status;
    private readonly WorkerFault _fault;
    private readonly BankKeeper _banks;

    public DaemonReadiness(DaemonStatus status, WorkerFault fault, BankKeeper banks)
    {
        _status = status;
        _fault = fault;
        _banks = banks;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var products = _banks.Snapshot();
        var data = new Dictionary<string, object>
        {
            ["state"] = _status.State,
            ["banks"] = products.ToDictionary(p => p.Name, p => (object)(p.BankId is null ? "none" : p.Loaded ? $"{p.BankId} (loaded)" : $"{p.BankId} (unloaded)")),
        };
        string? problem = _fault.Error is { } error ? $"the worker failed: {error.Message}"
            : _status.State != "running" ? $"the worker is {_status.State}"
            : products.FirstOrDefault(p => p.BankId is null) is { } missing ? $"product {missing.Name} has no bank"
            : null;
        return Task.FromResult(problem is null
            ? HealthCheckResult.Healthy($"running; {products.Count} bank(s) ready", data)
            : HealthCheckResult.Unhealthy(problem, data: data));
    }

    /// <summary>The answer of /healthz and /readyz: <c>{"status": "Healthy", "detail": "...", "state": ..., "banks": {...}}</c>.</summary>
    public static Task WriteAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            foreach (var entry in report.Entries.Values)
            {
                json.WriteString("detail", entry.Description);
                foreach (var (key, value) in entry.Data)
                {
                    json.WritePropertyName(key);
                    if (value is IDictionary<string, object> map)
                    {
                        json.WriteStartObject();
                        foreach (var (k, v) in map) json.WriteString(k, v.ToString());
                        json.WriteEndObject();
                    }
                    else
                    {
                        json.WriteStringValue(value.ToString());
                    }
                }
            }
            json.WriteEndObject();
        }
        return context.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }
}
