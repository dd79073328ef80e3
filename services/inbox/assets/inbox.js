// The inbox's one script, written by hand and served by the inbox itself.
// Everything works without it; with it, new arrivals appear at the top of
// an open list (server-sent events from /live) without moving what the
// reader is looking at, rows deleted elsewhere leave, and "/" jumps to the
// search box.
(function () {
  'use strict';

  function onSearchKey(event) {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement;
    if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      const box = document.getElementById('q');
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    }
  }
  document.addEventListener('keydown', onSearchKey);

  const table = document.getElementById('arrivals');
  if (!table || table.dataset.live !== '1' || !window.EventSource) {
    return;
  }
  const rows = document.getElementById('rows');
  const state = document.getElementById('live-state');
  let after = table.dataset.after || '0';
  let source = null;
  let arrived = 0;

  function say(text) {
    if (state) {
      state.textContent = text;
    }
  }

  function onRows(event) {
    const data = JSON.parse(event.data);
    after = String(data.after);
    const template = document.createElement('template');
    template.innerHTML = data.html;
    const added = template.content.querySelectorAll('tr').length;
    if (added === 0) {
      return;
    }
    // Keep the reader's place: rows added above what they look at push it
    // down by their height, so scroll by as much.
    const before = rows.getBoundingClientRect().height;
    const scrolled = window.scrollY > table.offsetTop;
    rows.insertBefore(template.content, rows.firstChild);
    if (scrolled) {
      window.scrollBy(0, rows.getBoundingClientRect().height - before);
    }
    const empty = document.getElementById('empty');
    if (empty) {
      empty.remove();
    }
    arrived += added;
    say(arrived === 1 ? '1 new arrival' : arrived + ' new arrivals');
  }

  function onRemoved(event) {
    const item = JSON.parse(event.data);
    rows.querySelectorAll('tr[data-item]').forEach(function (row) {
      if (row.dataset.item === item) {
        row.remove();
      }
    });
  }

  function onStale() {
    say('Some items were removed elsewhere; reload the page to see the list as it is now.');
  }

  function onError() {
    if (source && source.readyState === EventSource.CLOSED) {
      say('Live updates stopped; reload the page to start them again.');
    }
  }

  function connect() {
    const params = new URLSearchParams({ q: table.dataset.q || '', after: after });
    source = new EventSource('/live?' + params.toString());
    source.addEventListener('rows', onRows);
    source.addEventListener('removed', onRemoved);
    source.addEventListener('stale', onStale);
    source.addEventListener('error', onError);
  }

  // A page left for another closes its stream (a browser allows only a
  // few connections to one host), and picks up where it was if the reader
  // comes back to it.
  window.addEventListener('pagehide', function () {
    if (source) {
      source.close();
      source = null;
    }
  });
  window.addEventListener('pageshow', function (event) {
    if (event.persisted && !source) {
      connect();
    }
  });
  connect();
})();
