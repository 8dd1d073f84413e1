using PatchCore.Core.Backbones;
using TorchSharp;

namespace PatchCore.Core;

/// <summary>
/// Backbones shared by the detectors loaded with it (<see cref="PatchCoreDetector.Load"/>): banks built with the same
/// backbone and weights, on the same device, use one network in memory, as a station serving several products does.
/// A backbone lives while a detector uses it. Thread-safe; a shared backbone serialises its forward passes.
/// </summary>
public sealed class SharedBackbones : IDisposable
{
    private sealed class Entry(FeatureExtractor extractor)
    {
        public FeatureExtractor Extractor { get; } = extractor;
        public int Users { get; set; }
    }

    private readonly Dictionary<(string Backbone, string Weights, DeviceType Device, int Index), Entry> _entries = new();
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Backbones in memory now.</summary>
    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    /// <summary>The backbone for these settings, loaded on first use; each call must be paired with <see cref="Release"/>.</summary>
    internal FeatureExtractor Acquire(string backbone, string? weightsPath, torch.Device device)
    {
        var key = (backbone.Trim().ToLowerInvariant(), weightsPath is null ? "" : Path.GetFullPath(weightsPath), device.type, device.index);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_entries.TryGetValue(key, out var entry))
                _entries[key] = entry = new Entry(FeatureExtractor.Create(backbone, weightsPath, device));
            entry.Users++;
            return entry.Extractor;
        }
    }

    /// <summary>A detector is done with the backbone; the last one out frees it.</summary>
    internal void Release(FeatureExtractor extractor)
    {
        lock (_gate)
        {
            foreach (var (key, entry) in _entries)
            {
                if (!ReferenceEquals(entry.Extractor, extractor)) continue;
                if (--entry.Users == 0)
                {
                    _entries.Remove(key);
                    entry.Extractor.Dispose();
                }
                return;
            }
        }
    }

    /// <summary>Frees every backbone, in use or not (dispose the detectors first).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var entry in _entries.Values) entry.Extractor.Dispose();
            _entries.Clear();
        }
    }
}
