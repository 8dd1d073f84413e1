using System.Diagnostics.Metrics;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// Listens to this host's <see cref="InspectionMetrics"/> (its meter instance only, so two hosts in one process do not
/// count each other) and adds the measurements up for health.json and the status line. Written by hand rather than
/// taken from a metrics SDK because it needs only sums since start, and an exporter is a later issue's business.
/// </summary>
internal sealed class InspectionTotalsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly object _lock = new();
    private readonly Dictionary<string, long> _byProduct = new(StringComparer.Ordinal);
    private long _ok, _review, _ng, _quarantined, _errors, _batchFiles;
    private double _batchSeconds;
    private int _backlog;

    public InspectionTotalsCollector(InspectionMetrics metrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public InspectionTotals Snapshot()
    {
        lock (_lock)
        {
            _listener.RecordObservableInstruments(); // the backlog gauge reports now, into Add
            return new InspectionTotals(_ok, _review, _ng, _quarantined, _backlog,
                _batchFiles == 0 ? 0 : _batchSeconds * 1000 / _batchFiles, _errors, new Dictionary<string, long>(_byProduct, StringComparer.Ordinal));
        }
    }

    private void Add(Instrument instrument, double number, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_lock)
        {
            switch (instrument.Name)
            {
                case InspectionMetrics.ImagesName:
                    switch (Tag(tags, "verdict"))
                    {
                        case "ok": _ok += (long)number; break;
                        case "review": _review += (long)number; break;
                        case "ng": _ng += (long)number; break;
                        default: _quarantined += (long)number; break;
                    }
                    string product = Tag(tags, "product") as string ?? "";
                    _byProduct[product] = _byProduct.GetValueOrDefault(product) + (long)number;
                    break;
                case InspectionMetrics.ErrorsName:
                    _errors += (long)number;
                    break;
                case InspectionMetrics.BatchDurationName:
                    _batchSeconds += number;
                    break;
                case InspectionMetrics.BatchSizeName:
                    _batchFiles += (long)number;
                    break;
                case InspectionMetrics.BacklogName:
                    _backlog = (int)number;
                    break;
            }
        }
    }

    private static object? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
            if (tag.Key == key) return tag.Value;
        return null;
    }

    public void Dispose() => _listener.Dispose();
}
