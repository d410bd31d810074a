package mastodon

import (
	"regexp"
	"strings"
)

// mentionRE finds what Mastodon reads as a mention: @user or @user@domain
// not preceded by a word character, "/" (a URL) or "=" (as Mastodon's
// Account::MENTION_RE). Group 1 is the character before, group 2 the
// account.
var mentionRE = regexp.MustCompile(`(^|[^=/\w])@([A-Za-z0-9_]+(?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[\w-]+(?:\.[\w-]+)+)?)`)

// quoteMentions rewrites every mention in text that is not of one of keep
// (user@domain or user) without its leading @, so quoting a person
// ("cara@skate.social said ...") does not notify them and a direct message
// is not delivered to them: Mastodon delivers a direct post to every
// account it mentions. ourDomain is the server's domain, for mentions of
// local accounts written without one.
func quoteMentions(text, ourDomain string, keep ...string) string {
	// "@@cara" is still a mention once "@cara" loses its @: repeat until
	// nothing changes (each pass removes at least one @).
	for range strings.Count(text, "@") + 1 {
		out := mentionRE.ReplaceAllStringFunc(text, func(m string) string {
			sub := mentionRE.FindStringSubmatch(m)
			for _, k := range keep {
				if sameAccount(sub[2], k, ourDomain) {
					return m
				}
			}
			return sub[1] + sub[2]
		})
		if out == text {
			break
		}
		text = out
	}
	return text
}

// sameAccount reports whether the accounts a and b (user or user@domain,
// with or without a leading @) are the same on a server at ourDomain.
func sameAccount(a, b, ourDomain string) bool {
	au, ad, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(a), "@"), "@")
	bu, bd, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(b), "@"), "@")
	if ad == "" {
		ad = ourDomain
	}
	if bd == "" {
		bd = ourDomain
	}
	return au != "" && strings.EqualFold(au, bu) && strings.EqualFold(ad, bd)
}
