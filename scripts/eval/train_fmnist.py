#!/usr/bin/python3
"""Trains the reference Fashion-MNIST CNN and exports it to ONNX (config/models/fmnist-cnn.onnx).

Run once by a maintainer with Debian's torch (`/usr/bin/python3 scripts/eval/train_fmnist.py`); CI never trains.
Pixel contract shared with the Node eval: input is float32 [N, 1, 28, 28], gray 0..255 divided by 255.
The dataset normalisation lives inside the exported graph, so every caller feeds plain 0..1 pixels.
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = '/usr/share/datasets/fashion-mnist'
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training-split pixel mean / std on the 0..1 scale


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        buf = f.read()
    magic, = struct.unpack('>I', buf[:4])
    ndim = magic & 0xff
    dims = struct.unpack('>' + 'I' * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Net(nn.Module):
    """Two conv blocks and a small dense head: ~105k parameters (~420 KB ONNX), ~1.1M multiply-adds per image."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 10)
        self.drop = nn.Dropout(0.25)

    def forward(self, x):
        x = (x - MEAN) / STD
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = self.drop(F.relu(self.fc1(x.flatten(1))))
        return self.fc2(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=5)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--lr-decay', type=float, default=0.6, help='learning-rate factor per epoch (StepLR gamma)')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'config', 'models', 'fmnist-cnn.onnx'))
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)

    xtr = torch.from_numpy(read_idx(f'{DATA}/train-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    ytr = torch.from_numpy(read_idx(f'{DATA}/train-labels-idx1-ubyte.gz').astype(np.int64))
    xte = torch.from_numpy(read_idx(f'{DATA}/t10k-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    yte = torch.from_numpy(read_idx(f'{DATA}/t10k-labels-idx1-ubyte.gz').astype(np.int64))

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=args.lr_decay)
    for epoch in range(args.epochs):
        net.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(net(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        net.eval()
        with torch.no_grad():
            acc = sum((net(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(xte), 1000)) / len(xte)
        print(f'epoch {epoch + 1}: loss {loss.item():.3f} test acc {acc:.4f} ({time.time() - t0:.0f}s)', flush=True)

    net.eval()
    torch.onnx.export(net, torch.zeros(1, 1, 28, 28), args.out, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    # sidecar read by the Node eval (scripts/eval/classifier.ts); `deepn eval clean --record` adds cleanAccuracy
    side = {'model': os.path.basename(args.out), 'height': 28, 'width': 28, 'channels': 1, 'classes': CLASSES,
            'input': 'float32 [N,1,28,28], gray/255 (normalisation inside the graph)', 'output': 'logits [N,10]',
            'trainedWith': f'/usr/bin/python3 scripts/eval/train_fmnist.py --epochs {args.epochs} --seed {args.seed}'
                           + (f' --lr-decay {args.lr_decay}' if args.lr_decay != 0.6 else '') + f' --out {os.path.relpath(args.out)}',
            'torchTestAccuracy': acc}
    with open(args.out.replace('.onnx', '.json'), 'w') as f:
        json.dump(side, f, indent=2)
        f.write('\n')
    print('wrote', args.out)


if __name__ == '__main__':
    main()
