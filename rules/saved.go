package rules

import (
	"fmt"
	"strings"

	"github.com/parleybot/parley"
)

// CheckTemplate implements parley.ReplyTemplater: text is checked as a
// rule's reply template is at load (syntax, every variable against
// TemplateData, a run on sample data), so a saved reply with a typo is
// refused when it is saved rather than when someone inserts it.
func (s *Set) CheckTemplate(text string) error {
	_, probs := compileTemplate(text)
	if len(probs) == 0 {
		return nil
	}
	msgs := make([]string, len(probs))
	for i, p := range probs {
		msgs[i] = p.msg
		if p.line > 0 {
			msgs[i] = fmt.Sprintf("line %d: %s", p.line, p.msg)
		}
	}
	return parley.Errorf(parley.EINVALID, "the text is not a valid reply template: %s (variables are those of rule replies, e.g. {{first .Person}}, {{.Brand}}, {{.Mention.Text}})",
		strings.Join(msgs, "; "))
}

// RenderTemplate implements parley.ReplyTemplater: text rendered as a
// rule's reply to m by p would be.
func (s *Set) RenderTemplate(text string, m parley.Mention, p parley.Person) (string, error) {
	t, probs := compileTemplate(text)
	if len(probs) > 0 {
		return "", s.CheckTemplate(text)
	}
	out, err := ExecuteLimited(t, TemplateData{Person: p, History: parley.History{Person: p}, Mention: m,
		Brand: s.brand, Sentiment: m.Sentiment})
	if err != nil {
		return "", parley.Errorf(parley.EINVALID, "rendering the reply: %v", err)
	}
	return strings.TrimSpace(out), nil
}

var _ parley.ReplyTemplater = (*Set)(nil)
