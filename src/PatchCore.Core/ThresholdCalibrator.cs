using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core;

/// <summary>
/// The one calibration of a bank's thresholds, for builds and updates alike: the held-out good images, which never
/// entered the bank, scored against it through the detector's own path and search, so the thresholds come from the
/// same distances as the scores they are compared with; then the rules of <see cref="Calibration"/> on their image
/// scores and on the inspected pixels of their anomaly maps. An update's inherited held-out images that cannot be
/// scored again (missing, changed, unreadable) keep the score they had against the parent bank. With the image score
/// by position (<see cref="ImageScoreRule.Position"/>) the statistics come from the held-out maps, and each held-out
/// image's score is taken against the statistics of the others. <see cref="ImageScoreRule.Auto"/> is decided here, from
/// the maps themselves: by position when there are enough of one size, otherwise the highest patch distance.
/// </summary>
internal static class ThresholdCalibrator
{
    /// <summary>The calibration of a bank without held-out images: no thresholds, the highest patch distance as its image score.</summary>
    public static Calibration WithoutHeldOutImages(CalibrationRules rules)
    {
        if (rules.ImageScore == ImageScoreRule.Position)
            throw new PatchCoreException($"The image score by position needs at least {PositionStatistics.MinImages} held-out good images with maps, got 0: hold out more (--holdout) or add good images.");
        return new Calibration
        {
            Rule = "no images held out: no default threshold",
            ImageScoreChoice = rules.ImageScore == ImageScoreRule.Auto ? "no images held out" : null,
        };
    }

    public static Calibration Calibrate(PatchCoreDetector detector, IReadOnlyList<HeldOutImage> images, CalibrationRules rules, Calibration? parent,
        IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        if (images.Count == 0) return WithoutHeldOutImages(rules);
        var scores = new double?[images.Count];
        var sha = new string?[images.Count];
        var carried = new List<string>();
        var toScore = new List<int>();
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            sha[i] = image.Sha256;
            if (image.PreviousScore is null)
            {
                toScore.Add(i);
                continue;
            }
            string? why = WhyNotAgain(image);
            if (why is null) toScore.Add(i);
            else carried.Add($"{image.Name}: {why}");
        }

        var pixels = new PixelSample();
        bool auto = rules.ImageScore == ImageScoreRule.Auto;
        var byPosition = rules.ImageScore != ImageScoreRule.Max ? new List<(int Image, float[] Pooled)>() : null;
        (int Width, int Height, string Name)? mapSize = null;
        string? choice = null; // why Auto chose its rule (set only with Auto)
        int done = 0;
        foreach (var file in detector.ScoreFiles(toScore.Select(i => images[i].Path!).ToArray(), ct: ct))
        {
            using (file)
            {
                int i = toScore[file.Index];
                if (file.Succeeded)
                {
                    scores[i] = file.Detection.Score;
                    pixels.Add(file.Detection.Map.Values, file.Inspected);
                    if (byPosition is not null)
                    {
                        var map = file.Detection.Map;
                        mapSize ??= (map.Width, map.Height, images[i].Name);
                        if (mapSize.Value.Width == map.Width && mapSize.Value.Height == map.Height)
                        {
                            byPosition.Add((i, PositionStatistics.Pool(map.Values, map.Width, map.Height, file.Inspected)));
                        }
                        else
                        {
                            string sizes = $"held-out image {images[i].Name} gives a {map.Width}x{map.Height} map and {mapSize.Value.Name} a {mapSize.Value.Width}x{mapSize.Value.Height} one";
                            if (!auto)
                                throw new PatchCoreException(
                                    $"The image score by position needs one input size, but {sizes}: choose a fixed size (--resize WxH, --geometry auto or the default crop).");
                            choice = $"the held-out maps differ in size ({sizes}), and the image score by position needs one";
                            byPosition = null;
                        }
                    }
                    sha[i] ??= Hash(images[i].Path!);
                }
                else if (images[i].PreviousScore is null)
                {
                    throw file.Error; // a new held-out image that cannot be scored fails the build or update, naming it
                }
                else
                {
                    carried.Add($"{images[i].Name}: cannot be scored again ({file.Reason})");
                }
            }
            progress?.Report(new BuildProgress("calibration", ++done, toScore.Count));
        }
        PositionStatistics? position = null;
        if (byPosition is not null)
        {
            var pooled = byPosition.Select(p => p.Pooled).ToArray();
            if (byPosition.Count >= PositionStatistics.MinImages)
            {
                var (w, h, _) = mapSize!.Value;
                position = PositionStatistics.Fit(pooled, w, h);
                double[] outOfSample = PositionStatistics.LeaveOneOutScores(pooled, w, h);
                for (int j = 0; j < byPosition.Count; j++) scores[byPosition[j].Image] = outOfSample[j];
            }
            else if (parent?.Position is { } kept && (mapSize is not { } size || (size.Width == kept.Width && size.Height == kept.Height)))
            {
                // an update whose held-out images (nearly) all cannot be scored again keeps the parent's statistics,
                // as it keeps the parent's pixel figures when no map is left
                position = kept;
                for (int j = 0; j < byPosition.Count; j++) scores[byPosition[j].Image] = kept.ScorePooled(pooled[j]);
            }
            else if (auto)
            {
                choice = $"{byPosition.Count} held-out good images with maps, and the image score by position needs at least {PositionStatistics.MinImages}";
            }
            else
            {
                throw new PatchCoreException(
                    $"The image score by position needs at least {PositionStatistics.MinImages} held-out good images with maps, got {byPosition.Count}: hold out more (--holdout) or add good images.");
            }
        }
        var rule = position is null ? ImageScoreRule.Max : ImageScoreRule.Position;
        if (auto && position is not null)
            choice = $"{position.Images} held-out good maps of {position.Width}x{position.Height}";
        // carried scores are the parent bank's, in the same rule's units
        for (int i = 0; i < images.Count; i++) scores[i] ??= images[i].PreviousScore;

        var all = scores.Select(s => s!.Value).ToArray();
        var (mean, std) = ThresholdRule.MeanStd(all);
        double[] sortedScores = all.Order().ToArray();
        var calibration = new Calibration
        {
            HeldOutImages = images.Select(i => i.Name).ToArray(),
            HeldOutScores = all,
            HeldOutPaths = images.Select(i => i.Path).ToArray(),
            HeldOutSha256 = sha,
            CarriedOver = carried,
            Mean = mean,
            StdDev = std,
            Max = all.Max(),
            Rule = rules.Threshold.ToString(),
            ImageScore = rule,
            Position = position,
            ImageScoreChoice = choice,
            Threshold = rules.Threshold.Apply(all),
            ReviewThreshold = rules.Review.Apply<double>(sortedScores),
            ReviewRule = $"{rules.Review} of the held-out image scores",
        };
        if (pixels.Seen == 0 && parent is not null)
        {
            // No map at all: a bank with more vectors only lowers map values, so the parent's pixel figures stay a bound.
            return calibration with
            {
                PixelThreshold = parent.PixelThreshold,
                PixelRule = $"{parent.PixelRule} (kept from the parent bank: no held-out image could be scored again)",
                PixelMedian = parent.PixelMedian,
                PixelMax = parent.PixelMax,
            };
        }
        float[] sortedPixels = pixels.Sorted();
        string without = carried.Count == 0 ? "" : $"; {carried.Count} held-out image(s) with carried scores have no map";
        return calibration with
        {
            PixelThreshold = rules.Pixel.Apply<float>(sortedPixels),
            PixelRule = $"{rules.Pixel} of {pixels.Describe()} held-out anomaly-map pixels{without}",
            PixelMedian = QuantileRule.QuantileOf<float>(sortedPixels, 0.5),
            PixelMax = sortedPixels[^1],
        };
    }

    /// <summary>Why an inherited held-out image cannot be scored again (null: it can).</summary>
    private static string? WhyNotAgain(HeldOutImage image)
    {
        string currentSha;
        if (image.Path is null) return "its path was not recorded (a bank from before paths were kept)";
        if (!File.Exists(image.Path)) return $"missing at {image.Path}";
        try
        {
            currentSha = FileSha256.Of(image.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read at {image.Path} ({e.Message})";
        }
        if (image.Sha256 is not null && !string.Equals(image.Sha256, currentSha, StringComparison.OrdinalIgnoreCase))
            return $"changed since it was held out ({image.Path} has other bytes)";
        return null;
    }

    private static string? Hash(string path)
    {
        try { return FileSha256.Of(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The held-out anomaly-map pixels the pixel threshold is taken from, in bounded memory: every pixel up to
    /// <see cref="Capacity"/>, then every second one kept and the stride doubled, as often as needed.
    /// </summary>
    private sealed class PixelSample
    {
        private const int Capacity = 1 << 24; // 64 MiB of floats
        private float[] _values = new float[1024];
        private int _count;
        private long _phase;

        public int Stride { get; private set; } = 1;
        public long Seen { get; private set; }

        /// <param name="inspected">Pixels of the region of interest; null = every pixel.</param>
        public void Add(ReadOnlySpan<float> map, bool[]? inspected)
        {
            for (int i = 0; i < map.Length; i++)
            {
                if (inspected is not null && !inspected[i]) continue;
                Seen++;
                if (_phase++ % Stride != 0) continue;
                if (_count == Capacity) Decimate();
                if (_count == _values.Length) Array.Resize(ref _values, Math.Min(Capacity, 2 * _values.Length));
                _values[_count++] = map[i];
            }
        }

        private void Decimate()
        {
            for (int i = 0; i < _count / 2; i++) _values[i] = _values[2 * i];
            _count /= 2;
            Stride *= 2;
        }

        public float[] Sorted()
        {
            if (_count == 0) throw new PatchCoreException("The held-out images have no inspected pixel: the region of interest ignores everything.");
            var sorted = _values.AsSpan(0, _count).ToArray();
            Array.Sort(sorted);
            return sorted;
        }

        public string Describe() => Stride == 1 ? $"all {Seen:N0}" : $"every {Stride}th of {Seen:N0}";
    }
}
