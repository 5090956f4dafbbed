// display.js: keeps a display page live. The server sends the whole
// display ("slots") when the stream opens and after a new run, then each
// changed slot ("slot"); EventSource reconnects by itself and sends the
// last id it saw (Last-Event-ID), and the server catches the screen up.
// Everything from models goes in as text (textContent), never as HTML.
(function () {
	'use strict';
	var body = document.body;
	var net = body.getAttribute('data-network');
	var url = '/api/display/' + encodeURIComponent(net) + '/' + body.getAttribute('data-stream');
	var slotsEl = document.querySelector('.slots');
	var promptEl = document.querySelector('.title .prompt');
	var liveEl = document.querySelector('.title .live');

	function media(url, kind) {
		return /^https?:\/\//.test(url) || url.indexOf('data:' + kind + '/') === 0;
	}

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls) e.className = cls;
		if (text !== undefined) e.textContent = text;
		return e;
	}

	function draw(v) {
		var d = el('div', 'slot ' + (v.kind || 'empty'));
		d.setAttribute('data-slot', v.slot);
		if (v.kind && v.kind !== 'empty') {
			d.setAttribute('data-seq', v.seq);
			d.setAttribute('data-state', v.state);
			d.appendChild(el('div', 'head', '#' + v.seq + ' ' + (v.model || '') + ' '));
			d.firstChild.appendChild(el('span', 'state', v.state || ''));
			var b = el('div', 'body');
			var t = v.text || '';
			if (v.kind === 'image' && media(t, 'image')) {
				var img = el('img');
				img.alt = '';
				img.src = t;
				b.appendChild(img);
			} else if (v.kind === 'audio' && media(t, 'audio')) {
				var a = el('audio');
				a.controls = true;
				a.autoplay = true;
				a.src = t;
				b.appendChild(a);
			} else {
				b.appendChild(el('p', null, t));
			}
			d.appendChild(b);
		}
		return d;
	}

	function all(data) {
		promptEl.textContent = data.prompt || '';
		while (slotsEl.firstChild) slotsEl.removeChild(slotsEl.firstChild);
		data.slots.forEach(function (v) { slotsEl.appendChild(draw(v)); });
	}

	function one(v) {
		var old = slotsEl.children[v.slot];
		if (old) slotsEl.replaceChild(draw(v), old);
	}

	var es = new EventSource(url);
	es.addEventListener('open', function () { liveEl.className = 'live on'; });
	es.addEventListener('error', function () { liveEl.className = 'live'; });
	es.addEventListener('slots', function (e) { all(JSON.parse(e.data)); });
	es.addEventListener('slot', function (e) { one(JSON.parse(e.data)); });
})();
