// networks: the networks page's statuses, live (lib/web/netlive.c): each
// "status" event redraws its network's status cell as the server draws
// it (status_words() in lib/web/networks.c).
(function () {
	'use strict';

	function span(cls, text) {
		var s = document.createElement('span');
		s.className = cls;
		s.textContent = text;
		return s;
	}

	function draw(td, st) {
		st = st || {};
		var state = st.state || 'unknown';
		var words = state;
		if (state === 'invoking' && st.seq != null)
			words += ' #' + st.seq;
		if (st.next_in_ms != null)
			words += ', next in ' + (st.next_in_ms / 1000).toFixed(1) + ' s';
		td.textContent = '';
		td.appendChild(span('status ' + state, words));
		if (st.lockout_seconds_left > 0) {
			td.appendChild(document.createTextNode(' '));
			td.appendChild(span('lockout', 'lockout: ' + Math.round(st.lockout_seconds_left) + ' s left'));
		}
	}

	var cells = {};
	document.querySelectorAll('tr[data-network]').forEach(function (tr) {
		cells[tr.getAttribute('data-network')] = tr.querySelector('td.state');
	});
	if (!window.EventSource)
		return;
	var es = new EventSource('/api/events/networks');
	es.addEventListener('status', function (e) {
		var d = JSON.parse(e.data);
		var td = cells[d.network];
		if (td)
			draw(td, d.status);
	});
})();
