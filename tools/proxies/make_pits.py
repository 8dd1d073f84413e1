"""Proxy for 'small defects in wide high-resolution images among soiling that is not a defect' (issue 15).
Wide 1128x460 images made of three good magnetic_tile crops side by side (each resized to 376x460, bicubic).
Training composites use train/good images; test composites use test/good images (disjoint). Half of the test
composites stay good, half get 1-3 small pits (soft discs, radius 2-4.5 px, darker or brighter by 40-80 grey
levels) whose masks are the ground truth. Soiling (soft blotches, radius 15-35 px, +-12-25 grey levels) is put on
30% of the training composites and on half of the test composites, good and defective alike: normal variation,
never a defect. OUT_DIR/soiled.txt lists the soiled test images.
With N, only N training composites instead, for a build from about 4 million candidate patches at native size
(issue 15's scaling goal: 545 give 4,015,398 candidates, 491 in the bank and 54 held out): the training crops are
reshuffled and reused once they run out, soiling on 30%, no test split.
Usage (Debian's python3 with PIL, numpy, scipy): make_pits.py MAGNETIC_TILE_DIR OUT_DIR [N]"""
import os, sys, glob, numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
src, out = sys.argv[1], sys.argv[2]
wide_train = int(sys.argv[3]) if len(sys.argv) > 3 else None
rng = np.random.default_rng(7 if wide_train is None else 11)
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
        w = gaussian_filter(blob(cy, cx, r, r / 2), 3)
        a += (rng.choice([-1, 1]) * rng.integers(12, 26)) * w[..., None]

def pits(a):
    m = np.zeros((H, W), bool)
    for _ in range(rng.integers(1, 4)):
        cy, cx, r = rng.integers(10, H - 10), rng.integers(10, W - 10), rng.uniform(2, 4.5)
        w = blob(cy, cx, r, 1.0)
        a += (rng.choice([-1, 1]) * rng.integers(40, 81)) * w[..., None]
        m |= w > 0.5
    return m

def save(a, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.ascontiguousarray(np.clip(a, 0, 255).astype(np.uint8))).save(path)

train = sorted(glob.glob(f'{src}/train/good/*'))
if wide_train is not None:
    order = []
    while len(order) < 3 * wide_train:
        reshuffled = list(train)
        rng.shuffle(reshuffled)
        order += reshuffled
    for i in range(wide_train):
        a = composite(order[3 * i:3 * i + 3])
        if rng.random() < 0.3: soil(a)
        save(a, f'{out}/train/good/{i:03d}.png')
    print(wide_train, 'training composites in', out)
    sys.exit(0)
test = sorted(glob.glob(f'{src}/test/good/*'))
rng.shuffle(train); rng.shuffle(test)
for i in range(len(train) // 3):
    a = composite(train[3 * i:3 * i + 3])
    if rng.random() < 0.3: soil(a)
    save(a, f'{out}/train/good/{i:03d}.png')
for i in range(len(test) // 3):
    a = composite(test[3 * i:3 * i + 3])
    soiled = rng.random() < 0.5
    if soiled: soil(a)
    if soiled: open(f'{out}/soiled.txt', 'a').write(f"{'good' if i % 2 == 0 else 'pit'}/{i:03d}.png\n")
    if i % 2 == 0:
        save(a, f'{out}/test/good/{i:03d}.png')
    else:
        m = pits(a)
        save(a, f'{out}/test/pit/{i:03d}.png')
        os.makedirs(f'{out}/ground_truth/pit', exist_ok=True)
        Image.fromarray((m * 255).astype(np.uint8)).save(f'{out}/ground_truth/pit/{i:03d}_mask.png')
print(len(train) // 3, 'train composites,', len(test) // 3, 'test composites')
