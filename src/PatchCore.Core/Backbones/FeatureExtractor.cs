using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PatchCore.Core.Backbones;

/// <summary>
/// A ResNet backbone in eval mode that yields the outputs of the last blocks of layer2 and layer3 for a
/// preprocessed batch. The outputs are taken by forward hooks on those two blocks; only the stem, layer1,
/// layer2 and layer3 run (layer4, avgpool and fc never do). Not thread-safe across concurrent Extract calls
/// on one instance: calls are serialised.
/// </summary>
internal sealed class FeatureExtractor : IDisposable
{
    private static readonly string[] RunOrder = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3"];

    private readonly ResNet _model;
    private readonly bool _ownsModel;
    private readonly Module<Tensor, Tensor>[] _stages;
    private readonly bool _channelsLast;
    private readonly List<HookableModule<Func<Module<Tensor, Tensor>, Tensor, Tensor>, Func<Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover> _hooks = [];
    private readonly Lock _gate = new();
    private readonly Tensor?[] _captured = new Tensor?[2];
    private bool _capturing;
    private bool _disposed;

    public string BackboneName { get; }
    /// <summary>sha256 hex of the weights file; bank files compare it to refuse a bank built with other weights.</summary>
    public string WeightsId { get; }
    public string WeightsDescription { get; }
    public Preprocessing Preprocessing { get; }
    public int Layer2Channels { get; }
    public int Layer3Channels { get; }
    public torch.Device Device { get; }

    /// <summary>Names ("layer2.1", "layer3.1" for resnet18) of the two hooked blocks.</summary>
    internal string Layer2HookName { get; }
    internal string Layer3HookName { get; }

    /// <summary>Raised with the hooked block's name each time one of this extractor's hooks runs.</summary>
    internal event Action<string>? HookFired;

    /// <summary>The wrapped module, for tests.</summary>
    internal ResNet Model => _model;

    private FeatureExtractor(BackboneArchitecture architecture, ResNet model, bool ownsModel, string weightsId,
        string weightsDescription, Preprocessing preprocessing, torch.Device device)
    {
        _model = model;
        _ownsModel = ownsModel;
        BackboneName = architecture.Name;
        WeightsId = weightsId;
        WeightsDescription = weightsDescription;
        Preprocessing = preprocessing;
        Layer2Channels = architecture.Layer2Channels;
        Layer3Channels = architecture.Layer3Channels;
        _channelsLast = architecture.ChannelsLast;
        Device = device;

        var children = model.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
        _stages = RunOrder.Select(name => children.TryGetValue(name, out var m) && m is Module<Tensor, Tensor> typed
                ? typed
                : throw new PatchCoreException($"Backbone '{architecture.Name}' has no '{name}' stage."))
            .ToArray();
        (Layer2HookName, var layer2Last) = LastBlock(children, "layer2");
        (Layer3HookName, var layer3Last) = LastBlock(children, "layer3");
        _hooks.Add(layer2Last.register_forward_hook((_, _, output) => OnHook(0, Layer2HookName, output)));
        _hooks.Add(layer3Last.register_forward_hook((_, _, output) => OnHook(1, Layer3HookName, output)));
        model.eval();
    }

    /// <summary>
    /// Builds the named backbone with its weights: without <paramref name="weightsPath"/>, resnet18 gets the packaged
    /// ImageNet ONNX weights (other backbones need a file); with it, a torchvision state_dict (.pth, .pt, .safetensors)
    /// or, for resnet18, an ONNX file of the packaged layout.
    /// </summary>
    public static FeatureExtractor Create(string backbone = BackboneCatalog.DefaultName, string? weightsPath = null, torch.Device? device = null)
    {
        var architecture = BackboneCatalog.Get(backbone);
        device ??= torch.CPU;
        string path;
        if (weightsPath is null)
        {
            if (!architecture.HasPackagedWeights)
                throw new PatchCoreException(
                    $"Backbone '{architecture.Name}' has no packaged weights and none can be downloaded here: pass a torchvision state_dict (.pth or .safetensors) with --weights.");
            path = OnnxResNet18Weights.DefaultPath;
        }
        else
        {
            path = Path.GetFullPath(weightsPath);
        }

        bool isOnnx = string.Equals(Path.GetExtension(path), ".onnx", StringComparison.OrdinalIgnoreCase);
        if (isOnnx && architecture.Name != "resnet18")
            throw new PatchCoreException($"{path}: ONNX weights are read only for resnet18 (the packaged layout), not for '{architecture.Name}'.");
        if (!isOnnx && !TorchCheckpoint.IsSupported(path))
            throw new PatchCoreException($"{path}: unsupported weights file type; expected .pth, .pt, .safetensors or (resnet18) .onnx.");
        if (!File.Exists(path))
            throw new PatchCoreException(isOnnx && weightsPath is null
                ? $"{path}: packaged ResNet18 weights not found (the build copies them from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 into models/)."
                : $"{path}: weights file not found.");

        string weightsId = WeightsIdentity.Of(path);
        var model = architecture.Build();
        try
        {
            ReleaseUnrunStages(model);
            using (var scope = NewDisposeScope())
            {
                var state = isOnnx ? OnnxResNet18Weights.ReadStateDict(path) : TorchCheckpoint.Read(path);
                try
                {
                    StateDictTransfer.Apply(model, state, path, architecture.Name);
                }
                finally
                {
                    foreach (var t in state.Values)
                        t.Dispose();
                }
            }
            model.to(device);
            var (preprocessing, description) = isOnnx
                ? (Preprocessing.PackagedResNet18, $"packaged CNTK ImageNet ResNet18 (ONNX) {path}")
                : (Preprocessing.TorchvisionImageNet, $"torchvision {architecture.Name} state_dict {path}");
            return new FeatureExtractor(architecture, model, ownsModel: true, weightsId, description, preprocessing, device);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Empties the parameters and buffers of the stages that never run (layer4, fc): resnet18 builds them with random
    /// weights, 8.9 million floats (34 MiB) the process would otherwise hold for nothing. The modules stay in place
    /// (names and hooks unchanged); calling them would fail, and nothing does.
    /// </summary>
    private static void ReleaseUnrunStages(ResNet model)
    {
        using var noGrad = no_grad();
        foreach (var (name, tensor) in model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(model.named_buffers()))
        {
            if (StateDictTransfer.IsLoaded(name)) continue;
            using var nothing = empty(0);
            tensor.set_(nothing);
        }
    }

    /// <summary>Wraps a module the caller built (tests): its weights are whatever it holds.</summary>
    internal static FeatureExtractor Wrap(string backbone, ResNet model, bool ownsModel, string weightsId = "none",
        string weightsDescription = "as given", Preprocessing? preprocessing = null, torch.Device? device = null) =>
        new(BackboneCatalog.Get(backbone), model, ownsModel, weightsId, weightsDescription,
            preprocessing ?? Preprocessing.TorchvisionImageNet, device ?? torch.CPU);

    /// <summary>
    /// Features of a preprocessed batch [B, 3, H, W] float32 on any device (moved to <see cref="Device"/>):
    /// layer2 [B, Layer2Channels, H/8, W/8] and layer3 [B, Layer3Channels, H/16, W/16] for sides divisible by 16.
    /// The two tensors belong to the caller's current dispose scope (or to the caller, outside any scope).
    /// </summary>
    public (Tensor Layer2, Tensor Layer3) Extract(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (batch.dim() != 4 || batch.shape[1] != 3 || batch.shape[0] < 1)
            throw new PatchCoreException($"Feature extraction needs a batch of shape [B, 3, H, W]; got [{string.Join(", ", batch.shape)}].");
        if (batch.dtype != ScalarType.Float32)
            throw new PatchCoreException($"Feature extraction needs a float32 batch; got {batch.dtype}.");

        lock (_gate)
        {
            try
            {
                using (no_grad())
                using (NewDisposeScope())
                {
                    _capturing = true;
                    var x = batch.to(Device);
                    // [B, 3, H, W] in NHWC storage where the architecture allows it: every convolution after it keeps that
                    // layout, so oneDNN runs its NHWC kernels. Shapes and values are unchanged; the hooks see the same blocks.
                    // ([B, H, W, 3] contiguous, viewed back as [B, 3, H, W]: TorchSharp 0.107 has no channels_last argument.)
                    if (_channelsLast)
                        x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
                    // Stage by stage, each in its own scope, so that a stage's temporaries are freed when it ends and its
                    // input once the next stage has its output: a TorchSharp dispose scope keeps every tensor made in it
                    // until it closes, and one scope over the whole forward held every activation of stem..layer3 at once
                    // (about 30 MB per 224x224 image for resnet18) where one layer's are enough. The layers themselves
                    // run whole, so hooks on them (and on their blocks) see the forward they always saw.
                    Tensor? owned = null;
                    foreach (var stage in _stages)
                    {
                        Tensor next;
                        using (NewDisposeScope())
                            next = stage.call(x).DetachFromDisposeScope();
                        // An in-place stage (ReLU) hands back its input: that tensor stays.
                        if (owned is not null && !ReferenceEquals(owned, next)) owned.Dispose();
                        x = owned = next;
                    }
                    owned?.Dispose();
                }
                var layer2 = _captured[0] ?? throw new PatchCoreException($"The {Layer2HookName} hook did not fire.");
                var layer3 = _captured[1] ?? throw new PatchCoreException($"The {Layer3HookName} hook did not fire.");
                // New handles on the same storage, created here so they join the caller's current dispose scope;
                // the kept handles are disposed below.
                return (layer2.detach(), layer3.detach());
            }
            finally
            {
                _capturing = false;
                _captured[0]?.Dispose();
                _captured[1]?.Dispose();
                _captured[0] = _captured[1] = null;
            }
        }
    }

    private Tensor OnHook(int slot, string name, Tensor output)
    {
        if (_capturing)
        {
            // The block's output is disposed with the forward's scope: keep our own handle, outside every scope.
            _captured[slot]?.Dispose();
            _captured[slot] = output.detach().DetachFromDisposeScope();
        }
        HookFired?.Invoke(name);
        return null!; // null keeps the block's own output
    }

    private static (string Name, Module<Tensor, Tensor> Block) LastBlock(Dictionary<string, nn.Module> children, string layer)
    {
        if (!children.TryGetValue(layer, out var module))
            throw new PatchCoreException($"The backbone has no '{layer}'.");
        var (name, block) = module.named_children().LastOrDefault();
        return block is Module<Tensor, Tensor> typed
            ? ($"{layer}.{name}", typed)
            : throw new PatchCoreException($"The backbone's '{layer}' has no blocks.");
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var hook in _hooks)
                hook.remove();
            _hooks.Clear();
            if (_ownsModel)
                _model.Dispose();
        }
    }
}
