namespace PatchCore.Core.Evaluation;

/// <summary>
/// A category in MVTec AD layout: <c>CATEGORY/train/good</c>, <c>CATEGORY/test/&lt;type&gt;</c> ("good" is normal),
/// optional <c>CATEGORY/ground_truth/&lt;type&gt;/&lt;stem&gt;_mask.png</c>. Images are JPEG, PNG or BMP
/// (extensions compared case-insensitively); every list is sorted ordinally.
/// </summary>
public sealed class MvtecCategory
{
    /// <summary>The test folder name of normal images.</summary>
    public const string GoodType = "good";

    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp"];

    private MvtecCategory(string name, string root, IReadOnlyList<string> trainGood, IReadOnlyList<MvtecTestItem> test, bool hasMasks)
    {
        Name = name;
        Root = root;
        TrainGood = trainGood;
        Test = test;
        HasMasks = hasMasks;
    }

    /// <summary>The category folder's name.</summary>
    public string Name { get; }

    /// <summary>Full path of the category folder.</summary>
    public string Root { get; }

    /// <summary>Normal training images, full paths, ordinal order.</summary>
    public IReadOnlyList<string> TrainGood { get; }

    /// <summary>Test images ordered by defect type, then by path (both ordinal).</summary>
    public IReadOnlyList<MvtecTestItem> Test { get; }

    /// <summary>
    /// True when the category has a <c>ground_truth</c> folder; then every defect image has a mask path.
    /// False means image-level evaluation only.
    /// </summary>
    public bool HasMasks { get; }

    /// <summary>Distinct defect types found under <c>test/</c>, "good" included, ordinal order.</summary>
    public IReadOnlyList<string> DefectTypes => Test.Select(t => t.DefectType).Distinct().ToArray();

    /// <summary>Reads the layout of one category folder (no image is opened).</summary>
    /// <exception cref="PatchCoreException">
    /// The folder, <c>train/good</c> or <c>test</c> is missing, <c>train/good</c> or <c>test</c> holds no image,
    /// or the category has <c>ground_truth</c> and a defect image has no mask (the message names the expected path).
    /// </exception>
    public static MvtecCategory Load(string categoryDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(categoryDir);
        string root = Path.GetFullPath(categoryDir);
        if (!Directory.Exists(root))
            throw new PatchCoreException($"{root}: category folder not found (expected MVTec layout: train/good, test/<type>, optional ground_truth/<type>).");

        string trainGoodDir = Path.Combine(root, "train", GoodType);
        if (!Directory.Exists(trainGoodDir))
            throw new PatchCoreException($"{trainGoodDir}: folder not found; an MVTec category needs its normal training images in train/good.");
        string[] trainGood = ImagesIn(trainGoodDir);
        if (trainGood.Length == 0)
            throw new PatchCoreException($"{trainGoodDir}: no training images (expected .png, .jpg, .jpeg or .bmp files).");

        string testDir = Path.Combine(root, "test");
        if (!Directory.Exists(testDir))
            throw new PatchCoreException($"{testDir}: folder not found; an MVTec category needs test images in test/<type> (test/good for normal ones).");

        string groundTruthDir = Path.Combine(root, "ground_truth");
        bool hasMasks = Directory.Exists(groundTruthDir);

        var test = new List<MvtecTestItem>();
        foreach (string typeDir in Directory.GetDirectories(testDir).OrderBy(d => d, StringComparer.Ordinal))
        {
            string type = Path.GetFileName(typeDir);
            bool anomalous = !string.Equals(type, GoodType, StringComparison.Ordinal);
            foreach (string image in ImagesIn(typeDir))
            {
                string? mask = null;
                if (hasMasks && anomalous)
                {
                    mask = Path.Combine(groundTruthDir, type, Path.GetFileNameWithoutExtension(image) + "_mask.png");
                    if (!File.Exists(mask))
                        throw new PatchCoreException($"{image}: defect image has no ground-truth mask; expected {mask} (the category has {groundTruthDir}).");
                }
                test.Add(new MvtecTestItem(image, anomalous, type, mask));
            }
        }
        if (test.Count == 0)
            throw new PatchCoreException($"{testDir}: no test images (expected .png, .jpg, .jpeg or .bmp files in test/<type> folders such as test/good).");

        return new MvtecCategory(Path.GetFileName(root.TrimEnd(Path.DirectorySeparatorChar)), root, trainGood, test, hasMasks);
    }

    private static string[] ImagesIn(string dir) =>
        Directory.GetFiles(dir)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToArray();
}
