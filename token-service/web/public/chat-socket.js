// Typed chat over /ws/chat: the token travels as a WebSocket sub-protocol, never in the URL.

import { accessToken } from './auth.js';

/** Opens the chat for `chatRoomId`; `onFrame` gets every server frame. Returns `{ send, close }`. */
export function openChat(chatRoomId, onFrame) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/ws/chat?chat_room_id=${chatRoomId}`;
  let socket;
  let closed = false;
  let ready = false;
  const pending = [];
  const connect = () => {
    socket = new WebSocket(url, ['parley.v1', `bearer.${accessToken()}`]);
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === 'ready') {
        ready = true;
        for (const text of pending.splice(0)) socket.send(text);
      }
      onFrame(frame);
    };
    // Reconnect after a drop (a server restart, a sleeping laptop), not after close().
    socket.onclose = (event) => {
      ready = false;
      if (!closed && event.code !== 4403 && event.code !== 4404) setTimeout(connect, 2000);
    };
  };
  connect();
  return {
    send(text) {
      const frame = JSON.stringify({ type: 'message', client_id: crypto.randomUUID(), text });
      if (ready) socket.send(frame);
      else pending.push(frame);
    },
    close() {
      closed = true;
      socket.close();
    },
  };
}
