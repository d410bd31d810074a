package mastodontest

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"
)

// The JSON shapes below follow the Mastodon API documentation
// (docs.joinmastodon.org/entities/...) field for field for what a client
// of the listed endpoints sees, nulls included.

// Field is a profile metadata field.
type Field struct {
	Name       string     `json:"name"`
	Value      string     `json:"value"` // HTML
	VerifiedAt *time.Time `json:"verified_at"`
}

// Account is the Account entity.
type Account struct {
	ID             string    `json:"id"`
	Username       string    `json:"username"`
	Acct           string    `json:"acct"`
	DisplayName    string    `json:"display_name"`
	Locked         bool      `json:"locked"`
	Bot            bool      `json:"bot"`
	Discoverable   bool      `json:"discoverable"`
	Group          bool      `json:"group"`
	CreatedAt      time.Time `json:"created_at"`
	Note           string    `json:"note"` // HTML
	URL            string    `json:"url"`
	URI            string    `json:"uri"`
	Avatar         string    `json:"avatar"`
	AvatarStatic   string    `json:"avatar_static"`
	Header         string    `json:"header"`
	HeaderStatic   string    `json:"header_static"`
	FollowersCount int       `json:"followers_count"`
	FollowingCount int       `json:"following_count"`
	StatusesCount  int       `json:"statuses_count"`
	LastStatusAt   *string   `json:"last_status_at"`
	Emojis         []any     `json:"emojis"`
	Fields         []Field   `json:"fields"`
}

// credentialAccount is verify_credentials' Account with its source.
type credentialAccount struct {
	Account
	Source struct {
		Privacy             string  `json:"privacy"`
		Sensitive           bool    `json:"sensitive"`
		Language            string  `json:"language"`
		Note                string  `json:"note"`
		Fields              []Field `json:"fields"`
		FollowRequestsCount int     `json:"follow_requests_count"`
	} `json:"source"`
}

// StatusMention is Status.mentions[].
type StatusMention struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

// StatusTag is Status.tags[].
type StatusTag struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Status is the Status entity.
type Status struct {
	ID                 string          `json:"id"`
	CreatedAt          time.Time       `json:"created_at"`
	InReplyToID        *string         `json:"in_reply_to_id"`
	InReplyToAccountID *string         `json:"in_reply_to_account_id"`
	Sensitive          bool            `json:"sensitive"`
	SpoilerText        string          `json:"spoiler_text"`
	Visibility         string          `json:"visibility"`
	Language           *string         `json:"language"`
	URI                string          `json:"uri"`
	URL                *string         `json:"url"`
	RepliesCount       int             `json:"replies_count"`
	ReblogsCount       int             `json:"reblogs_count"`
	FavouritesCount    int             `json:"favourites_count"`
	EditedAt           *time.Time      `json:"edited_at"`
	Favourited         bool            `json:"favourited"`
	Reblogged          bool            `json:"reblogged"`
	Muted              bool            `json:"muted"`
	Bookmarked         bool            `json:"bookmarked"`
	Pinned             bool            `json:"pinned"`
	Content            string          `json:"content"`
	Filtered           []any           `json:"filtered"`
	Reblog             *Status         `json:"reblog"`
	Application        *Application    `json:"application"`
	Account            Account         `json:"account"`
	MediaAttachments   []any           `json:"media_attachments"`
	Mentions           []StatusMention `json:"mentions"`
	Tags               []StatusTag     `json:"tags"`
	Emojis             []any           `json:"emojis"`
	Card               any             `json:"card"`
	Poll               any             `json:"poll"`

	text string // the plain text it was made from, for search
}

// Application is Status.application.
type Application struct {
	Name    string  `json:"name"`
	Website *string `json:"website"`
}

// Notification is the Notification entity.
type Notification struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Account   Account   `json:"account"`
	Status    *Status   `json:"status,omitempty"`
}

var (
	tokenRE = regexp.MustCompile(`https?://[^\s<>"]+|(?:^|\B)@[A-Za-z0-9_]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]+)?|(?:^|\B)#[\p{L}\p{N}_]+`)
)

// render turns plain text into Mastodon's HTML: paragraphs, <br>, links
// shortened with invisible/ellipsis spans, h-card mentions and hashtag
// links. resolve maps a mention (user or user@domain) to an account.
func (s *Server) render(text string, resolve func(acct string) (Account, bool)) (content string, mentions []StatusMention, tags []StatusTag) {
	var b strings.Builder
	seenTag := map[string]bool{}
	paras := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n")
	for _, p := range paras {
		p = strings.Trim(p, "\n")
		if p == "" {
			continue
		}
		b.WriteString("<p>")
		for li, line := range strings.Split(p, "\n") {
			if li > 0 {
				b.WriteString("<br />")
			}
			last := 0
			for _, loc := range tokenRE.FindAllStringIndex(line, -1) {
				b.WriteString(html.EscapeString(line[last:loc[0]]))
				tok := line[loc[0]:loc[1]]
				last = loc[1]
				switch tok[0] {
				case 'h':
					b.WriteString(renderLink(tok))
				case '@':
					acct := tok[1:]
					a, ok := resolve(acct)
					if !ok {
						b.WriteString(html.EscapeString(tok))
						continue
					}
					mentions = append(mentions, StatusMention{ID: a.ID, Username: a.Username, URL: a.URL, Acct: a.Acct})
					fmt.Fprintf(&b, `<span class="h-card" translate="no"><a href="%s" class="u-url mention">@<span>%s</span></a></span>`, html.EscapeString(a.URL), html.EscapeString(a.Username))
				case '#':
					name := tok[1:]
					u := s.URL + "/tags/" + strings.ToLower(name)
					fmt.Fprintf(&b, `<a href="%s" class="mention hashtag" rel="tag">#<span>%s</span></a>`, html.EscapeString(u), html.EscapeString(name))
					if !seenTag[strings.ToLower(name)] {
						seenTag[strings.ToLower(name)] = true
						tags = append(tags, StatusTag{Name: strings.ToLower(name), URL: u})
					}
				}
			}
			b.WriteString(html.EscapeString(line[last:]))
		}
		b.WriteString("</p>")
	}
	return b.String(), mentions, tags
}

// renderLink renders a URL the way Mastodon does: the scheme invisible,
// the first 30 characters visible, the rest invisible behind an ellipsis.
func renderLink(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	scheme += "://"
	visible, hidden := rest, ""
	class := ""
	if len(rest) > 30 {
		visible, hidden = rest[:30], rest[30:]
		class = "ellipsis"
	}
	return fmt.Sprintf(`<a href="%s" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">%s</span><span class="%s">%s</span><span class="invisible">%s</span></a>`,
		html.EscapeString(u), html.EscapeString(scheme), class, html.EscapeString(visible), html.EscapeString(hidden))
}
