namespace PatchCore.Core.Evaluation;

/// <summary>One test image of an MVTec-layout category.</summary>
/// <param name="ImagePath">Full path of the image.</param>
/// <param name="IsAnomalous">False for images under <c>test/good</c>, true for every other defect type.</param>
/// <param name="DefectType">The folder name under <c>test/</c> ("good" for normal images).</param>
/// <param name="MaskPath">
/// Full path of <c>ground_truth/&lt;type&gt;/&lt;stem&gt;_mask.png</c> for a defect image of a category with masks;
/// null for good images (their mask is all zero) and for every image of a category without masks.
/// </param>
public sealed record MvtecTestItem(string ImagePath, bool IsAnomalous, string DefectType, string? MaskPath);
