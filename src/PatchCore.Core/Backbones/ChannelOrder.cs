namespace PatchCore.Core.Backbones;

public enum ChannelOrder { Rgb, Bgr }
