/**
 * The dashboard page: one HTML document with inline CSS and JS, no build step. It reads /api/devices once, then
 * follows /api/events (Server-Sent Events). Device data is put in with textContent only, never as HTML, so a
 * hostile status `reason` or table id cannot inject markup. A `?token=` in the page's own URL is passed on to
 * every API request (EventSource and <img> cannot send an Authorization header).
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>deepn receive</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.2em; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 10px; text-align: left; vertical-align: middle; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img.thumb { width: 160px; height: 120px; object-fit: contain; background: #eee; display: block; }
.state { font-weight: 600; padding: 2px 6px; border-radius: 3px; }
.online { background: #d7f5d7; } .degraded { background: #ffe7b3; } .offline { background: #f5d0d0; } .unknown { background: #e4e4e4; }
.small { color: #666; font-size: 12px; }
#conn { margin-left: 1em; font-size: 12px; color: #666; }
</style>
</head>
<body>
<h1>deepn receive <span id="conn">connecting…</span></h1>
<table>
<thead><tr><th>device</th><th>state</th><th>last frame</th><th>frames</th><th>frames/s</th><th>bytes/frame</th><th>backlog</th><th>gaps / lost</th><th>table</th></tr></thead>
<tbody id="devices"></tbody>
</table>
<script>
(function () {
  var token = new URLSearchParams(location.search).get('token');
  function api(path, extra) {
    var q = [];
    if (extra) q.push(extra);
    if (token) q.push('token=' + encodeURIComponent(token));
    return path + (q.length ? '?' + q.join('&') : '');
  }
  var body = document.getElementById('devices');
  var rows = {};
  function cell(tr, cls) { var td = document.createElement('td'); if (cls) td.className = cls; tr.appendChild(td); return td; }
  function text(td, main, small) {
    td.textContent = main;
    if (small) { var s = document.createElement('div'); s.className = 'small'; s.textContent = small; td.appendChild(s); }
  }
  function ago(iso) {
    if (!iso) return '';
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 120 ? s + ' s ago' : Math.round(s / 60) + ' min ago';
  }
  function kib(n) { return n < 1024 ? n + ' B' : (n / 1024).toFixed(1) + ' KiB'; }
  function row(d) {
    var r = rows[d.deviceId];
    if (!r) {
      var tr = document.createElement('tr');
      tr.dataset.device = d.deviceId;
      r = { tr: tr, name: cell(tr), state: cell(tr), thumbCell: cell(tr), frames: cell(tr, 'num frames'), fps: cell(tr, 'num fps'),
        bpf: cell(tr, 'num'), backlog: cell(tr, 'num backlog'), gaps: cell(tr, 'gaps'), table: cell(tr, 'table'), seq: undefined };
      r.img = document.createElement('img');
      r.img.className = 'thumb';
      r.img.alt = 'last frame of ' + d.deviceId;
      r.thumbCell.appendChild(r.img);
      r.caption = document.createElement('div');
      r.caption.className = 'small';
      r.thumbCell.appendChild(r.caption);
      r.name.textContent = d.deviceId;
      rows[d.deviceId] = r;
      body.appendChild(tr);
    }
    r.state.textContent = '';
    var badge = document.createElement('span');
    badge.className = 'state ' + d.state;
    badge.textContent = d.state;
    r.state.appendChild(badge);
    var why = [d.stateSince ? 'since ' + ago(d.stateSince) : '', d.reason || ''].filter(Boolean).join(': ');
    if (why) { var s = document.createElement('div'); s.className = 'small'; s.textContent = why; r.state.appendChild(s); }
    if (d.lastFrame && d.lastFrame.seq !== r.seq) {
      r.seq = d.lastFrame.seq;
      r.img.src = api('/api/devices/' + encodeURIComponent(d.deviceId) + '/last.jpg', 'seq=' + d.lastFrame.seq);
    }
    r.caption.textContent = d.lastFrame ? 'seq ' + d.lastFrame.seq + ', ' + d.lastFrame.width + 'x' + d.lastFrame.height + ', ' + ago(d.lastFrame.receivedAt) : 'no frame yet';
    text(r.frames, String(d.frames), d.duplicates ? d.duplicates + ' duplicates' : '');
    text(r.fps, d.fps.toFixed(1), d.telemetry && d.telemetry.framesPerSec !== undefined ? 'agent ' + d.telemetry.framesPerSec.toFixed(1) : '');
    text(r.bpf, d.lastFrame ? kib(d.lastFrame.bytes) : '', d.meanBytesPerFrame ? 'mean ' + kib(Math.round(d.meanBytesPerFrame)) : '');
    text(r.backlog, d.telemetry ? d.telemetry.backlog.frames + ' frames' : '–', d.telemetry ? kib(d.telemetry.backlog.bytes) + ', ' + ago(d.telemetry.receivedAt) : 'no telemetry');
    var gaps = d.gaps.map(function (g) { return g.from === g.to ? String(g.from) : g.from + '-' + g.to; });
    var lost = d.lost.map(function (g) { return (g.from === g.to ? g.from : g.from + '-' + g.to) + ' (' + g.cause + ')'; });
    text(r.gaps, gaps.length ? d.missing + ' missing: ' + gaps.slice(0, 4).join(', ') + (gaps.length > 4 ? ', …' : '') : 'no gaps',
      lost.length ? 'lost: ' + lost.slice(0, 3).join(', ') + (lost.length > 3 ? ', …' : '') : '');
    text(r.table, d.tableId || '–', d.tableSince ? 'since ' + ago(d.tableSince) + (d.previousTableId ? ' (was ' + d.previousTableId + ')' : '') : '');
  }
  function show(doc) { doc.devices.forEach(row); }
  var conn = document.getElementById('conn');
  fetch(api('/api/devices')).then(function (r) { return r.json(); }).then(show);
  var es = new EventSource(api('/api/events'));
  es.addEventListener('devices', function (e) { show(JSON.parse(e.data)); conn.textContent = 'live'; });
  es.onerror = function () { conn.textContent = 'reconnecting…'; };
})();
</script>
</body>
</html>
`
