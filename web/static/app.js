// Parley web inbox: progressive enhancement of server-rendered pages.
// Every form works without this file; with it, inbox actions happen in
// place (fetch), the keyboard drives the queue, and new drafts arrive live
// (server-sent events). No framework, no build step; loaded with defer.
(function () {
  'use strict';

  document.documentElement.classList.add('js');
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  // ---- toasts -----------------------------------------------------------
  var toasts = document.getElementById('toasts');
  function toast(message, kind, link) {
    if (!toasts || !message) return;
    var el = document.createElement('div');
    el.className = 'toast' + (kind ? ' toast-' + kind : '');
    el.textContent = message;
    if (link) {
      el.appendChild(document.createTextNode(' '));
      var a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.text;
      el.appendChild(a);
    }
    toasts.appendChild(el);
    setTimeout(function () { el.remove(); }, kind === 'error' ? 8000 : 4000);
  }

  // ---- undo send ----------------------------------------------------------
  // An approval with a grace period answers with where to undo it; the
  // toast offers Undo until the outbox may post it.
  function offerUndo(data) {
    if (!toasts || !data.undo) return;
    var el = document.createElement('div');
    el.className = 'toast toast-ok toast-undo';
    el.setAttribute('role', 'status');
    el.textContent = data.message + ' ';
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn btn-sm';
    b.textContent = 'Undo';
    b.setAttribute('data-undo', data.undo);
    el.appendChild(b);
    toasts.appendChild(el);
    var gone = setTimeout(function () { el.remove(); }, data.undo_ms);
    b.addEventListener('click', function () {
      b.disabled = true;
      clearTimeout(gone);
      fetch(data.undo, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf }
      }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (d) {
          el.remove();
          if (!res.ok) return toast(d.error || 'Undo failed (' + res.status + ').', 'error');
          toast(d.message, 'ok');
          document.dispatchEvent(new CustomEvent('parley:undone', { detail: d }));
        });
      }, function () {
        el.remove();
        toast('Cannot reach Parley: the reply may be posted. Check the conversation.', 'error');
      });
    });
  }
  // Pages without the inbox's queue show the draft again by reloading.
  document.addEventListener('parley:undone', function () {
    if (!document.getElementById('queue')) location.reload();
  });

  // ---- posting forms with fetch ------------------------------------------
  function post(form, submitter) {
    var action = (submitter && submitter.getAttribute('formaction')) || form.getAttribute('action');
    var body = new URLSearchParams(new FormData(form));
    // The button that submitted the form carries a value (a sentiment).
    if (submitter && submitter.name) body.set(submitter.name, submitter.value);
    return fetch(action, {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf }
    }).then(function (res) {
      return res.json().catch(function () {
        return { error: 'The server answered ' + res.status + '. Reload the page and try again.' };
      }).then(function (data) {
        if (!res.ok) {
          var err = new Error(data.error || 'That did not work (' + res.status + ').');
          err.status = res.status;
          throw err;
        }
        if (data.undo) {
          offerUndo(data);
          data.message = '';
        }
        return data;
      });
    }, function () {
      var err = new Error('Cannot reach Parley. Check that it is running, then try again.');
      err.status = 0;
      throw err;
    });
  }

  // ---- small page helpers ------------------------------------------------
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el.matches && el.matches('[data-autosubmit]') && el.form) el.form.requestSubmit();
  });
  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
  }, true);
  document.addEventListener('keydown', function (e) {
    // Ctrl/Cmd+Enter submits forms that ask for it (reply box, notes).
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && e.target.form && e.target.form.hasAttribute('data-ctrl-enter')) {
      e.preventDefault();
      e.target.form.requestSubmit();
    }
  });
  // The counter counts as the platform does: Mastodon counts every link
  // as 23 characters and @user@domain as @user; the limit is the
  // server's (data-limit, 0 when unknown).
  function countText(text, platform) {
    if (platform === 'mastodon') {
      text = text.replace(/https?:\/\/[^\s<>"]+/gi, 'x'.repeat(23))
        .replace(/(^|[^\w\/=@])@(\w+(?:[.-]+\w+)*)@[\w-]+(?:\.[\w-]+)+/g, '$1@$2');
    }
    return Array.from(text.trim()).length;
  }
  function updateCount(ta) {
    var out = ta.form && ta.form.querySelector('.charcount');
    if (!out) return;
    var n = countText(ta.value, ta.dataset.platform);
    var limit = parseInt(ta.dataset.limit || '0', 10);
    var over = limit > 0 && n > limit;
    out.textContent = limit > 0 ? n + ' / ' + limit : n + ' characters';
    out.title = limit > 0 ? 'The platform takes at most ' + limit + ' characters per post' : '';
    out.classList.toggle('charcount-over', over);
    if (over) ta.setAttribute('aria-invalid', 'true'); else ta.removeAttribute('aria-invalid');
  }
  document.addEventListener('input', function (e) {
    if (e.target.matches && e.target.matches('textarea[data-count]')) updateCount(e.target);
  });
  document.querySelectorAll('textarea[data-count]').forEach(updateCount);

  // ---- saved replies picker ---------------------------------------------
  // A button [data-saved-replies] (or Ctrl+K in its form's text) lists the
  // saved replies rendered for the person answered; the one picked is
  // inserted at the cursor and the form says which (saved_reply_id), so
  // its use is counted when the draft is approved.
  var picker = null;
  function buildPicker() {
    var d = document.createElement('dialog');
    d.className = 'picker';
    d.setAttribute('aria-label', 'Insert a saved reply');
    d.innerHTML = '<form method="dialog" class="picker-head"><label>Saved replies <input type="search" class="picker-q" placeholder="Search titles and words" autocomplete="off"></label>' +
      '<button class="btn btn-ghost btn-sm" value="close">Close <kbd>Esc</kbd></button></form>' +
      '<ul class="picker-list" role="listbox"></ul><p class="picker-empty muted" hidden>No saved reply matches.</p>';
    document.body.appendChild(d);
    var q = d.querySelector('.picker-q');
    var timer = null;
    q.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { loadPicker(q.value); }, 150);
    });
    d.addEventListener('keydown', function (e) {
      var items = Array.prototype.slice.call(d.querySelectorAll('.picker-item'));
      var i = items.indexOf(document.activeElement);
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        var next = e.key === 'ArrowDown' ? Math.min(i + 1, items.length - 1) : Math.max(i - 1, -1);
        (next < 0 ? q : items[next]).focus();
      } else if (e.key === 'Enter' && e.target === q && items.length) {
        e.preventDefault();
        items[0].click();
      }
    });
    return d;
  }
  function loadPicker(query) {
    var t = picker.target;
    var list = picker.querySelector('.picker-list');
    fetch(t.url + '&q=' + encodeURIComponent(query || ''), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (res) { return res.json(); })
      .then(function (data) {
        list.textContent = '';
        (data.replies || []).forEach(function (r) {
          var li = document.createElement('li');
          var b = document.createElement('button');
          b.type = 'button';
          b.className = 'picker-item';
          b.setAttribute('role', 'option');
          b.dataset.id = r.id;
          var title = document.createElement('strong');
          title.textContent = r.title;
          var text = document.createElement('span');
          text.className = 'picker-text';
          text.textContent = r.error ? r.error : r.text;
          b.appendChild(title);
          b.appendChild(text);
          b.addEventListener('click', function () { insertSaved(r); });
          li.appendChild(b);
          list.appendChild(li);
        });
        picker.querySelector('.picker-empty').hidden = list.children.length > 0;
      }, function () { toast('Cannot load the saved replies. Check that Parley is running.', 'error'); });
  }
  function insertSaved(r) {
    var t = picker.target;
    var ta = t.ta;
    var start = ta.selectionStart, end = ta.selectionEnd;
    ta.setRangeText(r.text, start, end, 'end');
    var hidden = t.form.querySelector('input[name="saved_reply_id"]');
    if (!hidden) {
      hidden = document.createElement('input');
      hidden.type = 'hidden';
      hidden.name = 'saved_reply_id';
      t.form.appendChild(hidden);
    }
    hidden.value = r.id;
    picker.close();
    ta.focus();
    updateCount(ta);
  }
  function openPicker(button) {
    var form = button.form || button.closest('form');
    var ta = form && form.querySelector('textarea');
    if (!ta) return;
    if (!picker) picker = buildPicker();
    picker.target = { ta: ta, form: form, url: button.getAttribute('data-saved-replies') };
    var q = picker.querySelector('.picker-q');
    q.value = '';
    loadPicker('');
    if (picker.showModal) picker.showModal(); else picker.setAttribute('open', '');
    q.focus();
  }
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-saved-replies]');
    if (b) openPicker(b);
  });
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'k' || !(e.ctrlKey || e.metaKey) || !e.target.form) return;
    var b = e.target.form.querySelector('[data-saved-replies]');
    if (!b) return;
    e.preventDefault();
    openPicker(b);
  });

  // Relative times ("3 min ago") stay fresh.
  function ago(t) {
    var d = (Date.now() - t) / 1000;
    if (d < 60) return 'just now';
    if (d < 3600) return Math.floor(d / 60) + ' min ago';
    if (d < 86400) return Math.floor(d / 3600) + ' h ago';
    var days = Math.floor(d / 86400);
    if (days === 1) return 'yesterday';
    if (days < 30) return days + ' days ago';
    return null;
  }
  function refreshTimes(root) {
    (root || document).querySelectorAll('time[data-ago]').forEach(function (el) {
      var s = ago(Date.parse(el.getAttribute('datetime')));
      if (s) el.textContent = s;
    });
  }
  setInterval(refreshTimes, 60000);

  var help = document.getElementById('help');
  function toggleHelp() {
    if (!help || !help.showModal) return;
    if (help.open) help.close(); else help.showModal();
  }
  document.querySelectorAll('[data-help]').forEach(function (b) { b.addEventListener('click', toggleHelp); });

  function parseHTML(html) {
    var t = document.createElement('template');
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  // ---- the draft editor (thread page, detail pane) ------------------------
  // Approve, Save and Reject happen in place; after an approval the toast
  // offers Undo while the grace period lasts.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.matches || !form.matches('form[data-editor]')) return;
    e.preventDefault();
    var section = form.closest('.draft-editor');
    var errBox = form.querySelector('.editor-error');
    var buttons = form.querySelectorAll('button');
    if (errBox) errBox.hidden = true;
    buttons.forEach(function (b) { b.disabled = true; });
    post(form, e.submitter).then(function (data) {
      buttons.forEach(function (b) { b.disabled = false; });
      if (data.state !== 'pending' && section) {
        var done = document.createElement('p');
        done.className = 'muted editor-done';
        done.textContent = 'Draft #' + data.id + ' is ' + data.state + '.';
        form.replaceWith(done);
      }
      toast(data.message, 'ok');
    }).catch(function (err) {
      buttons.forEach(function (b) { b.disabled = false; });
      if (errBox && err.status !== 401) {
        errBox.textContent = err.message;
        errBox.hidden = false;
      } else {
        toast(err.message, 'error', err.status === 401 ? { href: '/login?next=' + encodeURIComponent(location.pathname), text: 'Log in' } : null);
      }
    });
  });

  // ---- sentiment corrections (thread and person pages) -------------------
  // Inbox cards post theirs through the inbox's actions (data-action).
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.matches || !form.matches('form[data-correct]') || form.dataset.action) return;
    e.preventDefault();
    var msg = form.closest('.msg');
    var buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    post(form, e.submitter).then(function (data) {
      if (msg && data.html) {
        var fresh = parseHTML(data.html);
        msg.replaceWith(fresh);
        refreshTimes(fresh);
      }
      toast(data.message, 'ok');
    }).catch(function (err) {
      buttons.forEach(function (b) { b.disabled = false; });
      toast(err.message, 'error', err.status === 401 ? { href: '/login?next=' + encodeURIComponent(location.pathname), text: 'Log in' } : null);
    });
  });
  // An open correction control closes when you click elsewhere or press Esc.
  function closeCorrections(except) {
    document.querySelectorAll('details.correct[open]').forEach(function (d) {
      if (d !== except) d.open = false;
    });
  }
  document.addEventListener('click', function (e) {
    closeCorrections(e.target.closest && e.target.closest('details.correct'));
  });
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') return;
    var open = e.target.closest && e.target.closest('details.correct[open]');
    if (open) {
      open.open = false;
      open.querySelector('summary').focus();
    }
  });

  var queue = document.getElementById('queue');
  if (queue) inbox(queue);

  // ---- the inbox -----------------------------------------------------------
  // A list of conversations (one row each) and, on wide screens, the open
  // one in a pane beside it. The selection is a conversation id, so it
  // survives the list being rebuilt by a live update.
  function inbox(queue) {
    var pane = document.getElementById('pane');
    var queueCount = document.getElementById('queue-count');
    var bulkForm = document.getElementById('bulk');
    var bulkCount = document.getElementById('bulk-count');
    var selectedID = '';
    var paneID = (pane && pane.querySelector('.conv-pane')) ? pane.querySelector('.conv-pane').dataset.convId : '';
    var paneLoad = Promise.resolve();
    var lastTicked = null;

    function rows() { return Array.prototype.slice.call(queue.querySelectorAll('.row')); }
    function row(id) { return id ? document.getElementById('conv-' + id) : null; }
    function paneShown() { return pane && getComputedStyle(pane).display !== 'none'; }

    function select(r, scroll) {
      rows().forEach(function (x) { if (x !== r) x.classList.remove('is-selected'); });
      selectedID = r ? r.dataset.convId : '';
      if (!r) return;
      r.classList.add('is-selected');
      if (scroll !== false) r.scrollIntoView({ block: 'nearest' });
      if (paneShown() && paneID !== selectedID) loadPane(selectedID);
    }
    function move(step) {
      var list = rows();
      if (!list.length) return;
      var i = list.indexOf(row(selectedID));
      i = i < 0 ? 0 : Math.max(0, Math.min(list.length - 1, i + step));
      select(list[i]);
    }

    // The pane: the open conversation with its draft.
    function loadPane(id) {
      paneID = id;
      pane.setAttribute('aria-busy', 'true');
      paneLoad = fetch('/threads/' + id + '/pane', { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (res) {
          if (!res.ok) throw new Error('Cannot open conversation ' + id + ' (' + res.status + ').');
          return res.text();
        }).then(function (html) {
          if (paneID !== id) return; // another was chosen meanwhile
          pane.innerHTML = html;
          pane.removeAttribute('aria-busy');
          refreshTimes(pane);
        }).catch(function (err) {
          pane.removeAttribute('aria-busy');
          toast(err.message, 'error');
        });
      return paneLoad;
    }
    function paneCard() { return pane && pane.querySelector('.card'); }
    function editing() { return pane && pane.querySelector('details.edit[open], details.correct[open]'); }

    // The list: fetched again on every live change, the selection kept.
    var refreshing = null, again = false;
    function refreshList() {
      if (refreshing) { again = true; return refreshing; }
      var url = location.pathname + location.search + (location.search ? '&' : '?') + 'fragment=list';
      var ticked = {};
      queue.querySelectorAll('.row-check:checked').forEach(function (c) { ticked[c.value] = true; });
      var before = rows().map(function (r) { return r.dataset.convId; });
      var oldIndex = before.indexOf(selectedID);
      refreshing = fetch(url, { credentials: 'same-origin' }).then(function (res) {
        if (!res.ok) throw new Error('list ' + res.status);
        return res.text();
      }).then(function (html) {
        queue.innerHTML = html;
        rows().forEach(function (r) {
          var c = r.querySelector('.row-check');
          if (c && ticked[r.dataset.convId]) c.checked = true;
          r.classList.remove('is-selected');
          if (before.length && before.indexOf(r.dataset.convId) < 0) r.classList.add('is-new');
        });
        refreshTimes(queue);
        counts();
        var keep = row(selectedID);
        if (!keep && selectedID) {
          var list = rows();
          keep = list[Math.min(Math.max(oldIndex, 0), list.length - 1)] || null;
        }
        select(keep, false);
      }).catch(function () {
        liveState('off', 'Could not refresh: reload the page');
      }).then(function () {
        refreshing = null;
        if (again) { again = false; refreshList(); }
      });
      return refreshing;
    }

    function counts() {
      var list = queue.querySelector('#rows');
      var n = list ? list.dataset.count : rows().length;
      if (queueCount) {
        queueCount.textContent = n;
        queueCount.setAttribute('aria-label', String(n).replace('+', ' or more') + ' conversations');
      }
      queue.querySelectorAll('.list-counts li').forEach(function (li) {
        var tab = document.querySelector('[data-view-count="' + li.dataset.view + '"]');
        if (tab) tab.textContent = li.textContent;
      });
      document.title = (parseInt(n, 10) > 0 ? '(' + n + ') ' : '') + 'Inbox · Parley';
      ticks();
    }
    function ticks() {
      var n = queue.querySelectorAll('.row-check:checked').length;
      if (bulkCount) bulkCount.textContent = n ? n + ' ticked' : 'Tick conversations to act on many';
      if (bulkForm) bulkForm.classList.toggle('has-ticks', n > 0);
    }

    function showError(card, message) {
      var p = card && card.querySelector('.card-error');
      if (!p) return toast(message, 'error');
      p.textContent = message;
      p.hidden = false;
    }

    // act posts a form of the pane (the draft's approve, edit, reject,
    // assign; the conversation's close, snooze...) and refreshes.
    function act(form, submitter) {
      var card = form.closest('.card');
      var busy = card || pane;
      if (busy.classList.contains('is-busy')) return;
      busy.classList.add('is-busy');
      busy.setAttribute('aria-busy', 'true');
      var id = paneID;
      post(form, submitter).then(function (data) {
        toast(data.message, 'ok');
        return Promise.all([refreshList(), loadPane(id)]);
      }).catch(function (e) {
        if (e.status === 409) {
          toast(e.message, 'error');
          refreshList();
          loadPane(id);
        } else if (e.status === 401) {
          toast(e.message, 'error', { href: '/login?next=/', text: 'Log in' });
        } else {
          showError(card, e.message);
        }
      }).then(function () {
        busy.classList.remove('is-busy');
        busy.removeAttribute('aria-busy');
      });
    }
    function run(selector) {
      if (!selectedID) return;
      if (paneID !== selectedID) loadPane(selectedID);
      paneLoad.then(function () {
        var form = pane.querySelector(selector);
        if (form) act(form, null);
        else toast(selector.indexOf('close') >= 0 ? 'It is closed already.' : 'No draft waits in this conversation.', 'info');
      });
    }

    if (pane) {
      pane.addEventListener('submit', function (e) {
        var form = e.target;
        if (e.defaultPrevented || form.method !== 'post' || form.hasAttribute('data-correct') && !form.dataset.action) return;
        if (form.closest('.reply-box')) return;
        e.preventDefault();
        act(form, e.submitter);
      });
    }
    queue.addEventListener('click', function (e) {
      var check = e.target.closest('.row-check');
      if (check) {
        // Shift+click ticks (or unticks) the range from the last one.
        if (e.shiftKey && lastTicked) {
          var list = rows(), a = list.indexOf(lastTicked.closest('.row')), b = list.indexOf(check.closest('.row'));
          for (var i = Math.min(a, b); i <= Math.max(a, b); i++) list[i].querySelector('.row-check').checked = check.checked;
        }
        lastTicked = check;
        ticks();
        return;
      }
      var link = e.target.closest('.row-link');
      if (!link || e.ctrlKey || e.metaKey || e.shiftKey || !paneShown()) return;
      e.preventDefault();
      select(link.closest('.row'), false);
    });
    if (bulkForm) {
      bulkForm.addEventListener('submit', function (e) {
        e.preventDefault();
        var body = new URLSearchParams(new FormData(bulkForm));
        if (!body.getAll('ids').length) { toast('Tick the conversations first (x or the checkboxes).', 'error'); return; }
        fetch(bulkForm.getAttribute('action'), { method: 'POST', body: body, credentials: 'same-origin',
          headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf } })
          .then(function (res) { return res.json().then(function (d) { if (!res.ok) throw new Error(d.error || res.status); return d; }); })
          .then(function (d) {
            toast(d.message, d.failed && d.failed.length ? 'error' : 'ok');
            queue.querySelectorAll('.row-check:checked').forEach(function (c) { c.checked = false; });
            refreshList();
            if (paneID) loadPane(paneID);
          }).catch(function (err) { toast(err.message, 'error'); });
      });
    }

    function focusEdit(d) {
      var ta = d && d.querySelector('textarea');
      if (!ta) return;
      ta.focus();
      ta.setSelectionRange(ta.value.length, ta.value.length);
      updateCount(ta);
    }
    // Opened with "e", the editor takes focus on the key's release, so the
    // "e" itself is not typed into it.
    var openedByKey = null;
    document.addEventListener('keyup', function (e) {
      if (e.key === 'e' && openedByKey) {
        focusEdit(openedByKey);
        openedByKey = null;
      }
    });

    document.addEventListener('keydown', function (e) {
      var t = e.target;
      var typing = t.matches && t.matches('input:not([type=checkbox]), textarea, select, [contenteditable]');
      if (typing) {
        var details = t.closest && t.closest('details.edit');
        if (!details) return;
        if (e.key === 'Escape') {
          e.preventDefault();
          details.open = false;
          t.blur();
        } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          act(details.querySelector('form'), null);
        }
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (help && help.open && e.key !== '?') return;
      var r = row(selectedID);
      switch (e.key) {
        case 'j': move(1); break;
        case 'k': move(-1); break;
        case 'Enter':
          if (!r) return;
          if (paneShown()) { loadPane(selectedID); pane.scrollIntoView({ block: 'nearest' }); }
          else window.location.href = '/threads/' + selectedID;
          break;
        case 'a': run('.card .actions form[data-action="approve"]'); break;
        case 'r': run('.card .actions form[data-action="reject"]'); break;
        case 't': run('.conv-actions form[action$="/assign"]'); break;
        case 'c': run('.conv-actions form[action$="/close"]'); break;
        case 'x':
          if (!r) return;
          var c = r.querySelector('.row-check');
          c.checked = !c.checked;
          lastTicked = c;
          ticks();
          break;
        case 'e':
          if (!r) return;
          if (paneID !== selectedID) loadPane(selectedID);
          paneLoad.then(function () {
            var d = pane.querySelector('.card details.edit');
            if (!d) return toast('No draft waits in this conversation.', 'info');
            openedByKey = d;
            d.open = true;
            setTimeout(function () { if (openedByKey === d) { focusEdit(d); openedByKey = null; } }, 400);
          });
          break;
        case 'o':
          if (r) window.location.href = '/threads/' + selectedID;
          break;
        case 'p':
          var who = pane && pane.querySelector('.pane-head a.person-link');
          if (who) window.location.href = who.getAttribute('href');
          break;
        case '/':
          var q = document.getElementById('search-q');
          if (q) q.focus();
          break;
        case '?': toggleHelp(); break;
        default: return;
      }
      e.preventDefault();
    });

    // ---- live updates ------------------------------------------------------
    var live = document.getElementById('live');
    function liveState(state, text) {
      if (!live) return;
      live.dataset.state = state;
      live.querySelector('.live-text').textContent = text;
    }
    // A change anywhere: the list is fetched again; the open conversation
    // too when its row changed (its draft decided or replaced), unless
    // someone is editing it.
    var pendingRefresh = null;
    function changed() {
      if (pendingRefresh) return;
      pendingRefresh = setTimeout(function () {
        pendingRefresh = null;
        var open = row(paneID);
        var before = open ? open.dataset.draftId + ' ' + open.textContent : null;
        refreshList().then(function () {
          var now = row(paneID);
          var after = now ? now.dataset.draftId + ' ' + now.textContent : null;
          if (paneID && before !== null && after !== before && !editing() && !pane.querySelector('.is-busy')) loadPane(paneID);
        });
      }, 50);
    }
    function onDraft(ev) {
      var d;
      try { d = JSON.parse(ev.data); } catch (err) { return; }
      var card = paneCard();
      if (d.remove && d.decided_by && card && card.dataset.draftId === String(d.id) && !card.classList.contains('is-busy')) {
        toast('Draft #' + d.id + ' was ' + d.state + ' by ' + d.decided_by + '.', 'info');
      }
    }
    if (window.EventSource && queue.dataset.events) {
      var url = queue.dataset.events;
      url += (url.indexOf('?') < 0 ? '?' : '&') + 'since=' + encodeURIComponent(queue.dataset.since || '') +
        '&version=' + encodeURIComponent(queue.dataset.version || '');
      liveState('connecting', 'Connecting…');
      var es = new EventSource(url);
      es.addEventListener('open', function () { liveState('on', 'Live'); });
      es.addEventListener('error', function () {
        if (es.readyState === EventSource.CLOSED) liveState('off', 'Live updates stopped: reload the page');
        else liveState('connecting', 'Reconnecting…');
      });
      es.addEventListener('draft', onDraft);
      es.addEventListener('inbox', changed);
      es.addEventListener('reload', changed);
      window.addEventListener('pagehide', function () { es.close(); });
    }

    // An undone approval puts the draft back: the list and the open
    // conversation show it again.
    document.addEventListener('parley:undone', function () {
      refreshList().then(function () { if (paneID) loadPane(paneID); });
    });

    var first = queue.querySelector('.row.is-selected') || rows()[0] || null;
    select(first, false);
    counts();
  }
})();
