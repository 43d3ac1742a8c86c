/**
 * agents 1.9's job process reads its first IPC message (the initialize request) with
 * `once(process, 'message')`, runs `prewarm`, and only then attaches the handler for the rest.
 * A shutdown request that arrives in between (the worker drained while its idle processes were
 * still starting, e.g. SIGTERM soon after start) has no listener and is lost: the worker waits
 * its whole shutdown timeout (a minute) for an acknowledgement, then kills the process. That
 * was the ~57 s an idle worker took to stop.
 *
 * {@link holdStartupShutdown} holds such a request and hands it back once agents' own handler
 * is attached, so a process told to stop while starting exits as soon as it can.
 */

/** The IPC message agents sends a job process to stop it. */
interface ShutdownRequest {
  case: 'shutdownRequest';
}

function isShutdownRequest(message: unknown): message is ShutdownRequest {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { case?: unknown }).case === 'shutdownRequest'
  );
}

export interface StartupShutdown {
  /** True once a shutdown request arrived during start-up: prewarm may skip its work. */
  readonly requested: boolean;
  /** Stops holding; a held request is redelivered after agents' handler is attached. */
  release(): void;
}

/**
 * Starts holding shutdown requests. Node buffers IPC messages until the first `message`
 * listener exists, so listening right away would deliver the initialize request before agents
 * waits for it; this listens from the moment agents adds its first listener instead.
 */
export function holdStartupShutdown(target: NodeJS.Process = process): StartupShutdown {
  let request: ShutdownRequest | undefined;
  let released = false;
  const hold = (message: unknown) => {
    if (isShutdownRequest(message)) request ??= message;
  };
  const watch = (event: string | symbol) => {
    if (event !== 'message') return;
    target.off('newListener', watch);
    target.on('message', hold);
  };
  if (target.listenerCount('message') > 0) target.on('message', hold);
  else target.on('newListener', watch);
  return {
    get requested() {
      return request !== undefined;
    },
    release() {
      if (released) return;
      released = true;
      target.off('newListener', watch);
      target.off('message', hold);
      const held = request;
      if (held === undefined) return;
      // agents attaches its handler in the microtasks right after prewarm resolves; a
      // macrotask later it is there.
      setImmediate(() => target.emit('message', held, undefined));
    },
  };
}
