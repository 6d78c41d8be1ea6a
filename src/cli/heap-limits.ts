// Imported first by every launcher, for flat memory on long streams without node flags on the
// shebang (`#!/usr/bin/env -S node --max-semi-space-size=4 …` fails where env has no -S, as in
// BusyBox/Alpine). A 50 % heap growth step is a V8 flag read at run time. The young generation's
// cap is not (it is fixed when the heap is made), so it is emulated: once the new space reaches
// 8 MB (4 MB semi-spaces, the old --max-semi-space-size=4) its growth factor is set to 1, which
// stops further growth. Measured in BENCHMARKS.md: same peak RSS as the old flags.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

const NEW_SPACE_CAP = 8 * 1024 * 1024;

setFlagsFromString('--heap-growing-percent=50');

const poll = setInterval(() => {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (space && space.space_size < NEW_SPACE_CAP) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  clearInterval(poll);
}, 5);
poll.unref();
