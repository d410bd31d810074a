package advocate

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules"
)

// The built-in English opt-out words. The config adds its own per language
// (opt_out.commands, opt_out.phrases, opt_out.declines).
var (
	// builtinCommands opt out when they are the whole message.
	builtinCommands = []string{"stop", "stop it", "stop this", "unsubscribe", "no more", "leave me alone",
		"opt out", "opt me out", "optout", "go away", "enough"}
	// builtinPhrases opt out wherever they appear.
	builtinPhrases = []string{"unsubscribe", "leave me alone", "opt me out", "opt out of", "stop messaging",
		"stop sending me", "stop sending these", "stop dming", "stop dm'ing", "stop contacting", "stop spamming",
		"stop pinging me", "stop texting me", "stop writing to me", "stop inviting me", "no more messages",
		"no more dms", "no more invitations", "no more invites", "don't message me", "dont message me",
		"do not message me", "don't contact me", "dont contact me", "do not contact me", "don't dm me",
		"dont dm me", "do not dm me"}
	// builtinDeclines answer a prompt with no when the answer starts
	// with them.
	builtinDeclines = []string{"no thanks", "no thank you", "not interested", "not for me", "i'll pass",
		"ill pass", "i will pass", "i'd rather not", "id rather not", "maybe later", "not right now", "not now",
		"no", "nope", "nah", "pass", "thanks but no", "thank you but no"}
	// declinesAnywhere decline wherever they appear in the answer.
	declinesAnywhere = []string{"no thanks", "no thank you", "not interested"}
)

// fillers are dropped from the ends of a message before it is compared
// with the whole-message commands ("stop please", "please STOP!!").
var fillers = map[string]bool{
	"please": true, "pls": true, "plz": true, "thanks": true, "thx": true, "ok": true, "okay": true, "now": true,
	"just": true, "already": true, "thank": true, "you": true, "bitte": true, "danke": true, "merci": true,
	"svp": true, "stp": true, "por": true, "favor": true, "gracias": true,
}

// normalize lowers text, drops @mentions, links and hashtags, turns curly
// apostrophes straight and every other non-letter, non-digit into a space,
// trims apostrophes off word ends, and collapses spaces. It runs on every
// stored mention, so it makes one pass and one string.
func normalize(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	word := make([]rune, 0, 32)
	flush := func() {
		w := word
		for len(w) > 0 && w[0] == '\'' {
			w = w[1:]
		}
		for len(w) > 0 && w[len(w)-1] == '\'' {
			w = w[:len(w)-1]
		}
		if len(w) > 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			for _, r := range w {
				b.WriteRune(r)
			}
		}
		word = word[:0]
	}
	for i := 0; i < len(text); {
		// One whitespace-separated token at a time.
		for i < len(text) && isSpaceByte(text[i]) {
			i++
		}
		start := i
		for i < len(text) && !isSpaceByte(text[i]) {
			i++
		}
		tok := text[start:i]
		if tok == "" || tok[0] == '@' || tok[0] == '#' || strings.Contains(tok, "://") || hasPrefixFold(tok, "www.") {
			continue
		}
		for _, r := range tok {
			switch {
			case r == '\'' || r == '’' || r == '‘' || r == 'ʼ':
				word = append(word, '\'')
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				word = append(word, unicode.ToLower(r))
			default:
				flush()
			}
		}
		flush()
	}
	return b.String()
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func normList(ws []string) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, normalize(w))
	}
	return out
}

// core is the normalised message without filler words at either end.
func core(norm string) string {
	ws := strings.Fields(norm)
	for len(ws) > 0 && fillers[ws[0]] {
		ws = ws[1:]
	}
	for len(ws) > 0 && fillers[ws[len(ws)-1]] {
		ws = ws[:len(ws)-1]
	}
	return strings.Join(ws, " ")
}

// OptOut reports whether m asks Parley to stop prompting its author, and
// which words did. toUs says m is a DM or answers one of our posts (see
// parley.AdvocateStore.RepliesToUs). A whole-message command ("stop",
// "unsubscribe", "no more", ...) counts in a DM or a reply to us; a phrase
// ("leave me alone", "stop messaging me", ...) also in a post addressed to
// the brand that answers no one else. Configured words of every language
// count, whatever language the post is in.
func (e *Engine) OptOut(m parley.Mention, toUs bool) (words string, ok bool) {
	toUs = toUs || m.Direct
	if !toUs && m.InReplyTo != "" {
		return "", false // a reply to someone else, in a thread we are not in
	}
	norm := normalize(m.Text)
	if norm == "" {
		return "", false
	}
	if toUs {
		c := core(norm)
		for _, cmd := range e.commands {
			if c == cmd {
				return cmd, true
			}
		}
	}
	padded := " " + norm + " "
	for _, p := range e.phrases {
		if hasWords(padded, p) {
			return p, true
		}
	}
	return "", false
}

// hasWords reports whether normalised words occur in padded, a normalised
// text with a space at each end: whole words, as both went through
// normalize.
func hasWords(padded, words string) bool {
	if words == "" {
		return false
	}
	i := strings.Index(padded, words)
	for i >= 0 {
		if padded[i-1] == ' ' && padded[i+len(words)] == ' ' {
			return true
		}
		j := strings.Index(padded[i+1:], words)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// MayOptOut is a cheap first look: false means OptOut is false for m
// whatever toUs is, so the caller can skip asking the store.
func (e *Engine) MayOptOut(m parley.Mention) bool {
	_, ok := e.OptOut(m, true)
	return ok
}

// Declines reports whether m, a DM or a reply to us (toUs), says no to a
// prompt, and with which words: its text starts with a decline ("no
// thanks", "nah", "maybe later", configured ones), or holds "no thanks",
// "no thank you" or "not interested" anywhere.
func (e *Engine) Declines(m parley.Mention, toUs bool) (string, bool) {
	if !toUs && !m.Direct {
		return "", false
	}
	norm := normalize(m.Text)
	c := core(norm)
	padded := " " + norm + " "
	for _, d := range declinesAnywhere {
		if hasWords(padded, d) {
			return d, true
		}
	}
	for _, d := range e.declines {
		// The answer starts with it: "No thanks, ...", "nah". Elsewhere
		// these words are in too many other sentences ("I'd rather not
		// post this publicly").
		if c == d || norm == d {
			return d, true
		}
		// "no" alone starts too many sentences ("no Riptide for us").
		if strings.Contains(d, " ") && strings.HasPrefix(norm, d+" ") {
			return d, true
		}
	}
	return "", false
}

// Outcome decides what m, a post by the person prompted, says about prompt
// p: converted, declined, or "" (nothing yet). Only posts made in the
// watch window after the prompt was sent count. In order: an opt-out or a
// decline (in a DM or reply to us) declines; the asked-for link or hashtag
// converts; a positive post converts when outcome.positive_converts is on.
func (e *Engine) Outcome(m parley.Mention, p parley.Prompt, toUs bool) (outcome, detail string) {
	if p.SentAt.IsZero() || p.Outcome != "" || m.PersonID != p.PersonID || m.Ignored {
		return "", ""
	}
	if m.CreatedAt.Before(p.SentAt) || !m.CreatedAt.Before(p.WatchUntil()) {
		return "", ""
	}
	if w, ok := e.OptOut(m, toUs); ok {
		return parley.OutcomeDeclined, fmt.Sprintf("opted out (%q)", w)
	}
	if w, ok := e.Declines(m, toUs); ok {
		return parley.OutcomeDeclined, fmt.Sprintf("said %q", w)
	}
	if p.Link != "" && strings.Contains(strings.ToLower(m.Text), linkCore(p.Link)) {
		return parley.OutcomeConverted, "posted the link " + p.Link
	}
	if p.Hashtag != "" && rules.ContainsPhrase(m.Text, p.Hashtag) {
		return parley.OutcomeConverted, "used " + p.Hashtag
	}
	if e.cfg.Outcome.PositiveConverts && m.Sentiment.Label == parley.Positive {
		return parley.OutcomeConverted, "a positive post"
	}
	return "", ""
}

// linkCore is a link without scheme, "www." and trailing slash, in lower
// case: what a post that shares it contains.
func linkCore(link string) string {
	l := strings.ToLower(strings.TrimSpace(link))
	l = strings.TrimPrefix(strings.TrimPrefix(l, "https://"), "http://")
	l = strings.TrimPrefix(l, "www.")
	return strings.TrimRight(l, "/")
}

// OptOutWords lists the commands, phrases and declines in force, for
// `parley advocates` and the docs.
func (e *Engine) OptOutWords() (commands, phrases, declines []string) {
	return append([]string(nil), e.commands...), append([]string(nil), e.phrases...), append([]string(nil), e.declines...)
}
