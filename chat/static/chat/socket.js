// One WebSocket per open conversation, reconnecting by itself with capped, jittered backoff.

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;
const MAX_DELAY_MS = 10000;

export class ConversationSocket {
  /**
   * @param {string} url  ws(s)://… for one conversation
   * @param {{onEvent: Function, onConnect: Function, onState: Function, onFatal: Function}} handlers
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.closed = false;
    this.reconnectNow = () => {
      if (this.timer !== null && !this.closed) { clearTimeout(this.timer); this.timer = null; this.open(); }
    };
    window.addEventListener("online", this.reconnectNow);
  }

  open() {
    if (this.closed) return;
    this.handlers.onState(this.attempt === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let greeted = false;
    ws.addEventListener("message", (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      if (!greeted) {
        // The first frame after connecting is the snapshot: the connection is usable.
        greeted = true;
        this.attempt = 0;
        this.handlers.onState("online");
        this.handlers.onConnect();
      }
      this.handlers.onEvent(data);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_FORBIDDEN) {
        this.closed = true;
        this.handlers.onFatal(event.code);
        return;
      }
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const base = Math.min(MAX_DELAY_MS, 500 * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    this.handlers.onState("offline", delay);
    this.timer = setTimeout(() => { this.timer = null; this.open(); }, delay);
  }

  /** Sends a frame if connected; returns whether it went out. */
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  close() {
    this.closed = true;
    window.removeEventListener("online", this.reconnectNow);
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.ws) { const ws = this.ws; this.ws = null; ws.close(1000); }
  }
}

export function socketUrl(root, conversationId) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${root}${conversationId}`;
}
