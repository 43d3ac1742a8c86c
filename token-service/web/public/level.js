// How loud the character is, on a <meter>: a speaking indicator for people, and for the
// end-to-end test proof that real audio arrived (`data-peak` keeps the loudest level seen).

let context;

/** Measures `stream` with an AnalyserNode until its tracks end. */
export function watchLevel(stream, meter) {
  context ??= new AudioContext();
  void context.resume();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  const source = context.createMediaStreamSource(stream);
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    if (!stream.getAudioTracks().some((track) => track.readyState === 'live')) {
      clearInterval(timer);
      source.disconnect();
      meter.value = 0;
      return;
    }
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    meter.value = level;
    meter.dataset.peak = String(Math.max(Number(meter.dataset.peak), level));
  }, 50);
}
