using System.Globalization;
using System.Net;
using System.Text;

namespace PatchCore.Core.Evaluation;

/// <summary>A heatmap overlay for the report's galleries: PNG bytes and a caption (escaped when written).</summary>
public sealed record ReportImage(byte[] Png, string Caption);
