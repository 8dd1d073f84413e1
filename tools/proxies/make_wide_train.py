"""Training set for a build from about 4 million candidate patches at native size (issue 15's scaling goal): N wide
1128x460 composites of three magnetic_tile train/good crops side by side (each resized to 376x460, bicubic), as
make_pits.py makes them, but as many as asked: the crops are reshuffled and reused once the training set runs out.
Soiling (soft blotches, as in make_pits.py) on 30% of them. No test split: it measures the build, not accuracy.
545 composites at native size give 4,015,398 candidates (491 in the bank, 54 held out).
Usage (Debian's python3 with PIL, numpy, scipy): make_wide_train.py MAGNETIC_TILE_DIR OUT_DIR N"""
import os, sys, glob, numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
rng = np.random.default_rng(11)
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
W, H, PART = 1128, 460, 376

def composite(paths):
    parts = [np.asarray(Image.open(p).convert('RGB').resize((PART, H), Image.BICUBIC), dtype=np.float32) for p in paths]
    return np.ascontiguousarray(np.concatenate(parts, axis=1))

def blob(cy, cx, r, soft):
    yy, xx = np.ogrid[:H, :W]
    d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    return np.clip((r + soft - d) / (2 * soft), 0, 1)

def soil(a):
    for _ in range(rng.integers(1, 3)):
        cy, cx, r = rng.integers(40, H - 40), rng.integers(40, W - 40), rng.integers(15, 36)
        a += (rng.choice([-1, 1]) * rng.integers(12, 26)) * gaussian_filter(blob(cy, cx, r, r / 2), 3)[..., None]

train = sorted(glob.glob(f'{src}/train/good/*'))
order = []
while len(order) < 3 * n:
    t = list(train)
    rng.shuffle(t)
    order += t
os.makedirs(f'{out}/train/good', exist_ok=True)
for i in range(n):
    a = composite(order[3 * i:3 * i + 3])
    if rng.random() < 0.3: soil(a)
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(f'{out}/train/good/{i:03d}.png')
print(n, 'training composites in', out)
