using System.Diagnostics;

namespace PatchCore.Core.Imaging;

/// <summary>One input of a <see cref="DecodedWindow"/>: its position in the caller's list, and its image or why it has none.</summary>
internal sealed class DecodedInput(int index, string path)
{
    /// <summary>Position in the caller's list of paths.</summary>
    public int Index { get; } = index;
    public string Path { get; } = path;
    /// <summary>The decoded image until someone takes it (<see cref="TakeImage"/>); null when decoding failed.</summary>
    public DecodedImage? Image { get; set; }
    public ImageLoadException? Error { get; set; }
    public TimeSpan DecodeTime { get; set; }

    /// <summary>Hands the image over: the window no longer disposes it.</summary>
    public DecodedImage TakeImage()
    {
        var image = Image ?? throw new InvalidOperationException($"{Path} has no decoded image to take.");
        Image = null;
        return image;
    }
}

/// <summary>
/// Consecutive inputs decoded together with bounded parallelism: the unit of work between files and the backbone.
/// Every input keeps its position, so results go back to the right file whatever order the batches run in.
/// Disposing the window disposes every image nobody took.
/// </summary>
internal sealed class DecodedWindow : IDisposable
{
    private DecodedWindow(DecodedInput[] inputs) => Inputs = inputs;

    public IReadOnlyList<DecodedInput> Inputs { get; }
    public int Count => Inputs.Count;

    /// <summary>
    /// Decodes <paramref name="paths"/> in windows of <paramref name="windowSize"/> consecutive files, in order. A file that
    /// cannot be decoded is an input with an <see cref="DecodedInput.Error"/>, never an exception: the other files go on.
    /// Memory holds one window of pixels at a time (the caller disposes each window before asking for the next).
    /// </summary>
    public static IEnumerable<DecodedWindow> Over(ImageDecoder decoder, IReadOnlyList<string> paths, int windowSize, bool keepOriginals,
        int parallelism, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        for (int start = 0; start < paths.Count; start += windowSize)
        {
            ct.ThrowIfCancellationRequested();
            var inputs = new DecodedInput[Math.Min(windowSize, paths.Count - start)];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = new DecodedInput(start + i, paths[start + i]);
            var window = new DecodedWindow(inputs);
            try
            {
                Parallel.ForEach(inputs, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct },
                    input => Decode(decoder, input, keepOriginals));
            }
            catch
            {
                window.Dispose();
                throw;
            }
            yield return window;
        }
    }

    private static void Decode(ImageDecoder decoder, DecodedInput input, bool keepOriginals)
    {
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            input.Image = decoder.Decode(input.Path, keepOriginals);
        }
        catch (ImageLoadException e)
        {
            input.Error = e;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            // A decoder bug on one hostile file must not sink the others: it becomes that file's error.
            input.Error = new ImageLoadException(input.Path, $"cannot decode ({e.GetType().Name}): {e.Message}", e);
        }
        input.DecodeTime = Stopwatch.GetElapsedTime(t0);
    }

    /// <summary>The first input (in the caller's order) that could not be decoded, if any.</summary>
    public ImageLoadException? FirstError => Inputs.FirstOrDefault(i => i.Error is not null)?.Error;

    /// <summary>
    /// The decoded inputs as backbone batches: inputs of one model-input size together (sizes in order of first
    /// appearance, inputs in their order), cut into chunks of at most <paramref name="batchSize"/>. With one input size
    /// the batches are the window's inputs in order, in consecutive chunks.
    /// </summary>
    public IEnumerable<DecodedInput[]> Batches(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return Batches((_, _) => batchSize);
    }

    /// <summary>As <see cref="Batches(int)"/>, with the chunk size of each model-input size (width, height) given.</summary>
    public IEnumerable<DecodedInput[]> Batches(Func<int, int, int> batchSizeOf)
    {
        foreach (var group in Inputs.Where(i => i.Image is not null).GroupBy(i => (i.Image!.InputWidth, i.Image.InputHeight)))
            foreach (var chunk in group.Chunk(Math.Max(1, batchSizeOf(group.Key.InputWidth, group.Key.InputHeight))))
                yield return chunk;
    }

    public void Dispose()
    {
        foreach (var input in Inputs)
        {
            input.Image?.Dispose();
            input.Image = null;
        }
    }
}
