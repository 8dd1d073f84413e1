using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace PatchCore.Core.Tests;

/// <summary>
/// A small MVTec-layout category made from the repository's samples (no shared data needed) whose images come in
/// three sizes, interleaved in every list: with <c>--resize 256 --crop none</c> their model inputs are 256x256,
/// 288x256 and 256x320. One test image is deliberately distinct (a bright checkerboard pasted over a good bottle), and
/// every defect image has a mask of its own size, so a result or mask paired with the wrong image shows.
/// </summary>
public sealed class MixedSizeCategory : IDisposable
{
    /// <summary>The three sizes, in the order they cycle through every list.</summary>
    public static readonly (int Width, int Height)[] Sizes = [(256, 256), (288, 256), (256, 320)];

    private MixedSizeCategory(string root) => Root = root;

    public string Root { get; }
    public string[] Train { get; private set; } = [];
    /// <summary>Test images in the category's own order (defect type, then name).</summary>
    public string[] Test { get; private set; } = [];
    public string Distinct { get; private set; } = "";
    /// <summary>Original size of every image written.</summary>
    public Dictionary<string, (int Width, int Height)> SizeOf { get; } = new(StringComparer.Ordinal);

    public static MixedSizeCategory Create()
    {
        var category = new MixedSizeCategory(Directory.CreateTempSubdirectory("pc-mixed-").FullName);
        try
        {
            category.Write();
            return category;
        }
        catch
        {
            category.Dispose();
            throw;
        }
    }

    private void Write()
    {
        string samples = Path.Combine(TestData.RepoRoot, "samples", "bottle");
        string[] train = Directory.GetFiles(Path.Combine(samples, "train", "good"), "*.png").OrderBy(p => p, StringComparer.Ordinal).ToArray();
        Train = train.Select((source, i) => Save(source, Path.Combine("train", "good", $"{i:D3}.png"), Sizes[i % 3])).ToArray();

        string test = Path.Combine(samples, "test");
        // Category order is defect type ("defect" < "good"), then name: sizes cycle A, B, C, A, B, C.
        var defects = new (string Source, string Name)[]
        {
            ("broken_large_000.png", "a_broken_large.png"),
            ("broken_small_003.png", "b_broken_small.png"),
            ("good_000.png", "c_distinct.png"),
            ("contamination_005.png", "d_contamination.png"),
        };
        var tests = new List<string>();
        for (int i = 0; i < defects.Length; i++)
        {
            bool distinct = defects[i].Name == "c_distinct.png";
            string path = Save(Path.Combine(test, defects[i].Source), Path.Combine("test", "defect", defects[i].Name), Sizes[i % 3], distinct);
            SaveMask(path, Path.Combine("ground_truth", "defect", Path.GetFileNameWithoutExtension(defects[i].Name) + "_mask.png"), distinct);
            if (distinct) Distinct = path;
            tests.Add(path);
        }
        tests.Add(Save(Path.Combine(test, "good_000.png"), Path.Combine("test", "good", "e_good.png"), Sizes[4 % 3]));
        tests.Add(Save(Path.Combine(test, "good_010.png"), Path.Combine("test", "good", "f_good.png"), Sizes[5 % 3]));
        Test = tests.ToArray();
    }

    /// <summary>The block the distinct image carries, in its own pixels: a third of the width and height, at the centre.</summary>
    private static Rectangle Block(int width, int height) => new(width / 3, height / 3, width / 3, height / 3);

    private string Save(string source, string relative, (int Width, int Height) size, bool distinct = false)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = Image.Load<Rgb24>(source);
        image.Mutate(x => x.Resize(size.Width, size.Height));
        if (distinct)
        {
            var block = Block(size.Width, size.Height);
            for (int y = block.Top; y < block.Bottom; y++)
                for (int x = block.Left; x < block.Right; x++)
                    image[x, y] = ((x / 6 + y / 6) % 2 == 0) ? new Rgb24(255, 20, 20) : new Rgb24(240, 240, 240);
        }
        image.SaveAsPng(path);
        SizeOf[path] = size;
        return path;
    }

    /// <summary>A mask of the image's own size: the pasted block for the distinct image, a central square for the others.</summary>
    private void SaveMask(string imagePath, string relative, bool distinct)
    {
        var (w, h) = SizeOf[imagePath];
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var mask = new Image<L8>(w, h);
        var region = distinct ? Block(w, h) : new Rectangle(w / 2 - 16, h / 2 - 16, 32, 32);
        for (int y = region.Top; y < region.Bottom; y++)
            for (int x = region.Left; x < region.Right; x++)
                mask[x, y] = new L8(255);
        mask.SaveAsPng(path);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
