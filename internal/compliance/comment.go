package compliance

import (
	"go/ast"
	"go/token"
	"strings"
)

// tag is one clause tag found in a comment.
type tag struct {
	pos  token.Pos // start of the comment that holds the tag
	line int       // line of the tag's "TS-0045"
	list string    // the id list, "5.1.1.1, 5.1.1.2"
}

// commentTags returns the tags in a comment group. The group's comments are
// joined line by line, so an id list may continue on the next line.
func commentTags(fset *token.FileSet, g *ast.CommentGroup) []tag {
	var b strings.Builder
	starts := make([]int, len(g.List))
	for i, c := range g.List {
		starts[i] = b.Len()
		b.WriteString(commentBody(c.Text))
		b.WriteByte('\n')
	}
	text := b.String()
	var tags []tag
	for _, m := range tagPattern.FindAllStringSubmatchIndex(text, -1) {
		i := commentAt(starts, m[0])
		c := g.List[i]
		line := fset.Position(c.Slash).Line + strings.Count(text[starts[i]:m[0]], "\n")
		tags = append(tags, tag{pos: c.Slash, line: line, list: text[m[2]:m[3]]})
	}
	return tags
}

// commentBody strips the comment markers without removing any newline, so line
// counts within a block comment stay true.
func commentBody(text string) string {
	if body, ok := strings.CutPrefix(text, "//"); ok {
		return body
	}
	return strings.TrimSuffix(strings.TrimPrefix(text, "/*"), "*/")
}

// commentAt returns the index of the comment whose text starts at or before
// offset off of the joined text.
func commentAt(starts []int, off int) int {
	i := len(starts) - 1
	for i > 0 && starts[i] > off {
		i--
	}
	return i
}
