namespace PatchCore.Core.MemoryBank;

/// <summary>A good image an update added: its file name, the sha256 of its bytes, and whether it was held out to calibrate (rather than put into the bank).</summary>
public sealed record AddedImage(string Name, string Sha256, bool HeldOut);
