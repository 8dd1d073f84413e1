"""Proxy for 'long parts' (issue 15): magnetic_tile stretched to a part 2.5 times as long as wide.
Every 2nd train/good image (sorted by name) and the whole test split, each resized to 200x500 (bilinear; the
ground-truth masks nearest-neighbour, so they stay binary), in MVTec layout. Evaluated with
`patchcore eval --data OUT_DIR --train-stride 2 --geometry auto` (191 training images: 172 in the bank, 19 held out).
Usage (Debian's python3 with PIL): make_long.py MAGNETIC_TILE_DIR OUT_DIR"""
import os, sys
from PIL import Image

src, out = sys.argv[1], sys.argv[2]
W, H = 200, 500

def convert(source, target, mask=False):
    image = Image.open(source).resize((W, H), Image.NEAREST if mask else Image.BILINEAR)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    image.save(target)

for i, name in enumerate(sorted(os.listdir(f'{src}/train/good'))):
    if i % 2 == 0:
        convert(f'{src}/train/good/{name}', f'{out}/train/good/{name}')
for kind in sorted(os.listdir(f'{src}/test')):
    for name in sorted(os.listdir(f'{src}/test/{kind}')):
        convert(f'{src}/test/{kind}/{name}', f'{out}/test/{kind}/{name}')
for kind in sorted(os.listdir(f'{src}/ground_truth')):
    for name in sorted(os.listdir(f'{src}/ground_truth/{kind}')):
        convert(f'{src}/ground_truth/{kind}/{name}', f'{out}/ground_truth/{kind}/{name}', mask=True)
print('long-part proxy in', out)
