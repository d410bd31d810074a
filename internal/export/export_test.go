package export

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSafeCellsEscapeFormulas(t *testing.T) {
	in := []string{"=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
		"-0.6", "42", "+3.5", "plain text", "", "a=b", "mail@example.com"}
	want := []string{"'=HYPERLINK(\"http://evil\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1",
		"-0.6", "42", "+3.5", "plain text", "", "a=b", "mail@example.com"}
	assert.Equal(t, want, safeCells(in))
}

func TestCheckSaysWhatIsWrong(t *testing.T) {
	assert.NoError(t, Check("drafts", "jsonl"))
	assert.ErrorContains(t, Check("threads", "csv"), `cannot export "threads"`)
	assert.ErrorContains(t, Check("people", "xlsx"), `format "xlsx": want csv or jsonl`)
}
