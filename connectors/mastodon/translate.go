package mastodon

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley"
)

// MaxTextBytes bounds Mention.Text. A longer status (some servers allow
// hundreds of kilobytes) is cut there, at a character boundary, with a
// warning in the log; the mention itself is delivered.
const MaxTextBytes = 64 << 10

var nobotRE = regexp.MustCompile(`(?i)#nobot\b`)

// hasNoBot reports whether an account asks bots to leave it alone: #nobot
// (any case) in its display name, bio or profile fields.
func hasNoBot(a *apiAccount) bool {
	if nobotRE.MatchString(a.DisplayName) || nobotRE.MatchString(HTMLToText(a.Note)) {
		return true
	}
	for _, f := range a.Fields {
		if nobotRE.MatchString(HTMLToText(f.Name)) || nobotRE.MatchString(HTMLToText(f.Value)) {
			return true
		}
	}
	return false
}

// qualify returns acct as user@domain; local accounts (acct without a
// domain) get domain.
func qualify(acct, domain string) string {
	acct = strings.TrimPrefix(strings.TrimSpace(acct), "@")
	if acct == "" || strings.Contains(acct, "@") || domain == "" {
		return acct
	}
	return acct + "@" + domain
}

// toPerson translates an account.
func toPerson(a *apiAccount, domain string) parley.Person {
	acct := a.Acct
	if acct == "" {
		acct = a.Username
	}
	return parley.Person{
		Platform:   parley.PlatformMastodon,
		ExternalID: string(a.ID),
		Handle:     qualify(acct, domain),
		Name:       strings.TrimSpace(a.DisplayName),
		Followers:  max(int(a.FollowersCount), 0),
		NoBot:      hasNoBot(a),
	}
}

// statusText is the plain text of a status: its content warning, if any,
// then its content.
func statusText(s *apiStatus) string {
	text := HTMLToText(s.Content)
	if cw := strings.TrimSpace(s.SpoilerText); cw != "" {
		if text == "" {
			return "CW: " + cw
		}
		return "CW: " + cw + "\n\n" + text
	}
	return text
}

// toMention translates a status seen on channel. The caller has checked
// that the status is neither ours nor a reblog.
//
// account is the connector's name when several accounts are configured:
// status ids are local to a server, so the mention's ids are then
// namespaced "account:id" (and Account set), keeping two servers' posts
// apart in the store; Send takes the prefix off again.
func toMention(s *apiStatus, domain, channel, account string, now time.Time) parley.Mention {
	created := s.CreatedAt.Time
	if created.IsZero() {
		created = now
	}
	u := s.URL
	if u == "" {
		u = s.URI
	}
	vis := strings.ToLower(strings.TrimSpace(s.Visibility))
	id, replyTo := string(s.ID), string(s.InReplyToID)
	if account != "" {
		id = account + ":" + id
		if replyTo != "" {
			replyTo = account + ":" + replyTo
		}
	}
	return parley.Mention{
		Platform:   parley.PlatformMastodon,
		Account:    account,
		ExternalID: id,
		Author:     toPerson(&s.Account, domain),
		Text:       statusText(s),
		CreatedAt:  created,
		InReplyTo:  replyTo,
		URL:        u,
		Channel:    channel,
		Visibility: vis,
		Lang:       strings.TrimSpace(s.Language),
		Direct:     vis == "direct",
	}
}

// containsWord reports whether text contains word as a whole word,
// ignoring case.
func containsWord(text, word string) bool {
	word = strings.ToLower(strings.TrimSpace(word))
	if word == "" {
		return false
	}
	lt := strings.ToLower(text)
	for off := 0; ; {
		i := strings.Index(lt[off:], word)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(word)
		before, _ := utf8.DecodeLastRuneInString(lt[:i])
		after, _ := utf8.DecodeRuneInString(lt[end:])
		if (i == 0 || !isWordRune(before)) && (end == len(lt) || !isWordRune(after)) {
			return true
		}
		off = i + 1
		for off < len(lt) && !utf8.RuneStart(lt[off]) {
			off++
		}
	}
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
