using System.Runtime.InteropServices;
using PatchCore.Core.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core.Imaging;

/// <summary>Turns decoded model-input pixels into a normalised [B, 3, H, W] float32 tensor for a backbone.</summary>
internal static class InputTensor
{
    /// <summary>All images must share one input size. The tensor is created on the CPU in the current dispose scope.</summary>
    public static Tensor Create(IReadOnlyList<DecodedImage> images, Preprocessing preprocessing)
    {
        if (images.Count == 0) throw new ArgumentException("At least one image is needed.", nameof(images));
        int w = images[0].InputWidth, h = images[0].InputHeight;
        foreach (var img in images)
            if (img.InputWidth != w || img.InputHeight != h)
                throw new ArgumentException($"Images in one batch must share an input size: {img.SourcePath} is {img.InputWidth}x{img.InputHeight}, expected {w}x{h}.");
        int plane = w * h;
        // [B, 3, H, W], filled in place: no managed staging array (fresh memory is costly to touch, see EmbeddedBatch)
        Tensor input = empty([images.Count, 3, h, w], ScalarType.Float32);
        Parallel.For(0, images.Count, b => Fill(images[b].InputRgb, preprocessing, MemoryMarshal.Cast<byte, float>(input.bytes).Slice(b * 3 * plane, 3 * plane), plane));
        return input;
    }

    /// <summary>Writes one image as CHW planes in the backbone's channel order: (value * scale - mean) / std.</summary>
    internal static void Fill(ReadOnlySpan<byte> rgb, Preprocessing p, Span<float> chw, int plane)
    {
        for (int c = 0; c < 3; c++)
        {
            int source = p.Order == ChannelOrder.Rgb ? c : 2 - c;
            float mean = p.Mean[c];
            float invStd = p.Std is null ? 1f : 1f / p.Std[c];
            Span<float> dst = chw.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++)
                dst[i] = (rgb[i * 3 + source] * p.Scale - mean) * invStd;
        }
    }
}
