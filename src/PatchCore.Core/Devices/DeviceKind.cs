using TorchSharp;

namespace PatchCore.Core.Devices;

public enum DeviceKind { Auto, Cpu, Cuda }
