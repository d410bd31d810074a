package digest

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

// Markdown renders the digest for chat (Discord, Mastodon, Matrix):
// headings, bold and lists, no tables; links as [label](url). People's
// words are escaped so they cannot format the message.
func (d *Digest) Markdown() string {
	w := &writer{md: true}
	d.write(w)
	return w.String()
}

// Text renders the digest as plain text (the email alternative, logs):
// the same content as Markdown, links written out in angle brackets.
func (d *Digest) Text() string {
	w := &writer{}
	d.write(w)
	return w.String()
}

// writer writes Markdown or plain text.
type writer struct {
	md bool
	b  strings.Builder
}

func (w *writer) String() string { return strings.TrimRight(w.b.String(), "\n") + "\n" }

func (w *writer) h1(s string) {
	if w.md {
		fmt.Fprintf(&w.b, "# %s\n", s)
		return
	}
	fmt.Fprintf(&w.b, "%s\n%s\n", s, strings.Repeat("=", len([]rune(s))))
}

func (w *writer) h2(s string) {
	if w.md {
		fmt.Fprintf(&w.b, "\n## %s\n", s)
		return
	}
	fmt.Fprintf(&w.b, "\n%s\n%s\n", s, strings.Repeat("-", len([]rune(s))))
}

func (w *writer) p(format string, args ...any) { fmt.Fprintf(&w.b, format+"\n", args...) }

func (w *writer) li(format string, args ...any) { fmt.Fprintf(&w.b, "- "+format+"\n", args...) }

func (w *writer) li2(format string, args ...any) { fmt.Fprintf(&w.b, "  - "+format+"\n", args...) }

func (w *writer) ol(n int, format string, args ...any) {
	fmt.Fprintf(&w.b, "%d. "+format+"\n", append([]any{n}, args...)...)
}

func (w *writer) bold(s string) string {
	if w.md {
		return "**" + s + "**"
	}
	return s
}

func (w *writer) link(label, url string) string {
	if !safeURL(url) {
		return label
	}
	if w.md {
		return "[" + label + "](<" + url + ">)"
	}
	return label + " <" + url + ">"
}

// esc makes people's words safe to show: one line, and in Markdown no
// formatting characters.
func (w *writer) esc(s string) string {
	s = textutil.OneLine(s)
	if !w.md {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_~|[]<", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (w *writer) quote(text string, n int) string { return "“" + w.esc(quote(text, n)) + "”" }

func (w *writer) who(p Post) string {
	return w.link("@"+w.esc(p.Author)+" on "+platformName(p.Platform), p.URL)
}

// write renders the digest section by section; every format (Markdown,
// HTML, text) goes through it with its own writer.
func (d *Digest) write(w *writer) {
	d.writeHead(w)
	d.writeNext(w)
	d.writeVolume(w)
	d.writeSentiment(w)
	d.writeResponse(w)
	d.writePeople(w)
	d.writeTopics(w)
	w.p("")
	w.p("%s", fmt.Sprintf("Week %s in %s, as of %s. Made by Parley.", d.Week, d.TimeZone, d.AsOf.Format("Mon 2 Jan 2006 15:04 MST")))
}

// writeHead is the title and the week's headline numbers.
func (d *Digest) writeHead(w *writer) {
	v, s, r := d.Volume, d.Sentiment, d.Response
	w.h1(d.Title())
	head := []string{
		w.bold(fmt.Sprintf("%d mentions", v.Total)) + fmt.Sprintf(" (%s vs last week)", change(v.Total, v.PrevTotal)),
	}
	if v.Total > 0 {
		head = append(head,
			w.bold(pct(s.Share(parley.Negative))+" negative")+" ("+points(s.Share(parley.Negative), s.PrevShare(parley.Negative))+")",
			w.bold(pct(r.ReplyRate())+" replied"))
	}
	if r.Replied > 0 {
		head = append(head, "median reply "+w.bold(fmtDur(r.Median)))
	}
	w.p("%s", strings.Join(head, " · "))
}

func (d *Digest) writeNext(w *writer) {
	w.h2("What to do next")
	for i, a := range d.Next {
		text := w.esc(a.Text)
		if a.URL != "" {
			text += " " + w.link("Open", a.URL)
		}
		w.ol(i+1, "%s", text)
	}
}

func (d *Digest) writeVolume(w *writer) {
	v := d.Volume
	w.h2("Volume")
	if len(v.Platforms) > 0 {
		var ps []string
		for _, p := range v.Platforms {
			ps = append(ps, fmt.Sprintf("%s %d (%s)", platformName(p.Platform), p.Count, change(p.Count, p.PrevCount)))
		}
		w.li("By platform: %s", strings.Join(ps, ", "))
	}
	var days []string
	for _, day := range v.Days {
		days = append(days, fmt.Sprintf("%s %d", day.Date.Format("Mon"), day.Count))
	}
	w.li("By day: %s (a usual day: %s)", strings.Join(days, " · "), fmtNum(v.Usual))
	for _, sp := range v.Spikes {
		w.li("Spike on %s: %s mentions against a usual %s", dayName(sp.Date), w.bold(fmt.Sprint(sp.Count)), fmtNum(sp.Usual))
		for _, p := range sp.Top {
			w.li2("%s: %s", w.who(p), w.quote(p.Text, 120))
		}
	}
}

func (d *Digest) writeSentiment(w *writer) {
	v, s := d.Volume, d.Sentiment
	w.h2("Sentiment")
	if v.Total == 0 {
		w.li("No mentions this week.")
	} else {
		var parts []string
		for _, l := range []parley.Label{parley.Negative, parley.Neutral, parley.Positive} {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", l, pct(s.Share(l)), points(s.Share(l), s.PrevShare(l))))
		}
		w.li("%s", strings.Join(parts, " · "))
	}
	switch s.Waiting {
	case 0:
		w.li("No negative thread is waiting for an answer.")
	default:
		w.li("%s waiting for an answer, the oldest since %s:",
			w.bold(plural(s.Waiting, "negative thread", "negative threads")), dayName(s.OldestWaiting))
		for _, t := range s.Threads {
			extra := ""
			if t.Negative > 1 {
				extra = fmt.Sprintf(" (%d unanswered)", t.Negative)
			}
			w.li2("%s: %s%s", w.who(t.Post), w.quote(t.Post.Text, 120), extra)
		}
	}
	if len(s.Best) > 0 {
		w.li("Happiest: %s: %s", w.who(s.Best[0]), w.quote(s.Best[0].Text, 120))
	}
	if s.Corrections > 0 {
		w.li("%s corrected by people; %d disagreed with the model", plural(s.Corrections, "label", "labels"), s.Disagreed)
	}
}

func (d *Digest) writeResponse(w *writer) {
	r := d.Response
	w.h2("Response")
	if r.Mentions > 0 {
		w.li("%d of %d mentions got a reply (%s; last week %s)", r.Replied, r.Mentions, pct(r.ReplyRate()), pct(r.PrevReplyRate()))
	}
	if r.Replied > 0 {
		w.li("Time to first reply: median %s, 90%% within %s (last week %s and %s)",
			w.bold(fmtDur(r.Median)), fmtDur(r.P90), fmtDur(r.PrevMedian), fmtDur(r.PrevP90))
		w.li("%s answered within the %s target (last week %s)", pct(r.OnTimeShare()), fmtDur(d.ResponseTarget), pct(r.PrevOnTimeShare()))
	} else {
		w.li("No replies were sent this week.")
	}
	w.li("Drafts: %d approved (%d edited first), %d approved by rules, %d rejected; %d waiting now",
		r.Approved, r.Edited, r.AutoApproved, r.Rejected, r.Pending)
	if line := d.AlertsLine(); line != "" {
		w.li("%s", w.esc(line))
	}
	if len(r.Agents) > 0 {
		var as []string
		for _, a := range r.Agents {
			as = append(as, fmt.Sprintf("%s %d approved, %d edited, %d rejected", w.esc(a.Name), a.Approved, a.Edited, a.Rejected))
		}
		w.li("By agent: %s", strings.Join(as, "; "))
	}
	if len(r.SavedReplies) > 0 {
		var ss []string
		for _, u := range r.SavedReplies {
			ss = append(ss, fmt.Sprintf("%s %d", w.esc("“"+u.Title+"”"), u.Uses))
		}
		w.li("Saved replies used: %s", strings.Join(ss, ", "))
	}
}

func (d *Digest) writePeople(w *writer) {
	pp := d.People
	w.h2("People")
	w.li("%s wrote: %d for the first time, %d returning (last week %d, %d new)",
		plural(pp.Total, "person", "people"), pp.FirstTime, pp.Returning, pp.PrevTotal, pp.PrevFirstTime)
	if len(pp.Top) > 0 {
		var ts []string
		for _, t := range pp.Top {
			ts = append(ts, fmt.Sprintf("@%s (%d)", w.esc(t.Handle), t.Mentions))
		}
		w.li("Most active: %s", strings.Join(ts, ", "))
	}
	if pp.Advocates+pp.Candidates+pp.Lapsed > 0 {
		line := fmt.Sprintf("Advocates: %d, %d candidates, %d lapsed", pp.Advocates, pp.Candidates, pp.Lapsed)
		if len(pp.TopAdvocates) > 0 {
			var ts []string
			for _, a := range pp.TopAdvocates {
				ts = append(ts, fmt.Sprintf("@%s %.1f", w.esc(a.Handle), a.Score))
			}
			line += "; top: " + strings.Join(ts, ", ")
		}
		w.li("%s", line)
	}
	if len(pp.NewAdvocates)+len(pp.LapsedAdvocates) > 0 {
		w.li("New advocates: %s; lapsed: %s", handles(w, pp.NewAdvocates), handles(w, pp.LapsedAdvocates))
	}
	if pr := pp.Prompts; pr.Drafted+pr.Sent+pr.Rejected > 0 {
		w.li("Prompts: %d drafted, %d sent, %d rejected, %d converted so far", pr.Drafted, pr.Sent, pr.Rejected, pr.Converted)
		for _, t := range pr.ByTemplate {
			line := fmt.Sprintf("%s: %d drafted, %d sent, %d rejected", w.esc(t.Template), t.Drafted, t.Sent, t.Rejected)
			if t.Sent > 0 {
				line += fmt.Sprintf("; %d converted (%s), %d declined, %d expired, %d watching",
					t.Converted, pct(t.Rate()), t.Declined, t.Expired, t.Watching)
			}
			w.li2("%s", line)
		}
	}
	if pp.OptOuts+pp.OptIns > 0 {
		w.li("Opt-outs: %d (opt-ins %d)", pp.OptOuts, pp.OptIns)
	}
}

func (d *Digest) writeTopics(w *writer) {
	w.h2("Topics")
	if len(d.Topics.Terms)+len(d.Topics.Hashtags) == 0 {
		w.li("No topic rose against last week.")
	}
	if len(d.Topics.Terms) > 0 {
		w.li("Rising: %s", terms(w, d.Topics.Terms))
	}
	if len(d.Topics.Hashtags) > 0 {
		w.li("Hashtags: %s", terms(w, d.Topics.Hashtags))
	}
}

// safeURL reports whether url can go into a link as it is: http or
// https, without spaces or angle brackets that would end the link early.
func safeURL(url string) bool {
	return (strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://")) && !strings.ContainsAny(url, " \t\r\n<>")
}

// Split cuts a rendered digest into pieces of at most limit bytes for
// platforms that limit a message's length (Discord: 2000 characters,
// Mastodon: 500 by default). It cuts between lines, before a "## "
// section when the piece is already half full, and cuts a line only when
// it alone is longer than limit (at a space if it can, always between
// characters).
func Split(text string, limit int) []string {
	text = strings.TrimRight(text, "\n")
	if limit <= 0 || len(text) <= limit {
		return []string{text}
	}
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.Trim(cur.String(), "\n"); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for _, line := range strings.Split(text, "\n") {
		for len(line) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			if i := strings.LastIndexByte(line[:cut], ' '); i > limit/2 {
				cut = i
			}
			flush()
			out = append(out, strings.TrimRight(line[:cut], " "))
			line = strings.TrimLeft(line[cut:], " ")
		}
		if cur.Len()+len(line) > limit || (strings.HasPrefix(line, "## ") && cur.Len() > limit/2) {
			flush()
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return out
}

func handles(w *writer, vs []Voice) string {
	if len(vs) == 0 {
		return "none"
	}
	var out []string
	for _, v := range vs {
		out = append(out, "@"+w.esc(v.Handle))
	}
	return strings.Join(out, ", ")
}

func terms(w *writer, ts []Term) string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s %d (%d)", w.esc(t.Term), t.Count, t.Prev))
	}
	return strings.Join(out, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
