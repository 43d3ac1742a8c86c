import { cpus, freemem, loadavg, totalmem } from 'node:os';

/** What the numbers were measured on. */
export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function describeMachine(): Machine {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** `os.loadavg()` as "1m / 5m / 15m" with the free memory: how busy the machine was. */
export function describeLoad(): string {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  const free = (freemem() / 2 ** 30).toFixed(1);
  return `load ${one.toFixed(2)} / ${five.toFixed(2)} / ${fifteen.toFixed(2)}, ${free} GiB free`;
}
