package fakeopenai

import (
	"context"
	"strings"
	"testing"
)

func TestQuietDamage(t *testing.T) {
	short := Segment{ID: "1", Text: "图1"}
	para := Segment{ID: "2", Text: "我们在这个项目上花了三年时间。第一年主要是收集数据，第二年搭建模型，第三年才开始真正的实验。"}
	lines := Segment{ID: "3", Text: "第一行\\\n第二行"}
	mixed := Segment{ID: "4", Text: "打开网站www.topscinet.com"}
	segs := []Segment{short, para, lines, mixed}
	clean := breakSegments(segs, nil, Fault{})
	tr := func(s Segment) string { return Translate(s.Text) }
	first, _ := firstSentence(tr(para))
	tests := []struct {
		name string
		f    Fault
		id   string // the damaged segment
		want string
	}{
		{"first sentence", Fault{FirstSentence: DamageableSegment}, "2", first},
		{"one word", Fault{OneWord: DamageableSegment}, "2", strings.Fields(tr(para))[0]},
		{"one word, named", Fault{OneWord: "1"}, "1", strings.Fields(tr(short))[0]},
		{"nested tag", Fault{NestedTag: DamageableSegment}, "1", tr(short) + "\n<seg id=\"1\">" + tr(short)},
		{"merge lines", Fault{MergeLines: DamageableSegment}, "3", strings.ReplaceAll(tr(lines), "\n", " ")},
		{"mixed-script echo", Fault{LeaveChinese: DamageableSegment}, "4", mixed.Text},
	}
	for _, tt := range tests {
		got := breakSegments(segs, nil, tt.f)
		if len(got) != len(segs) {
			t.Fatalf("%s: %d segments, want %d", tt.name, len(got), len(segs))
		}
		for i, s := range got {
			want := clean[i].Text
			if s.ID == tt.id {
				want = tt.want
			}
			if s.Text != want {
				t.Errorf("%s: segment %s = %q, want %q", tt.name, s.ID, s.Text, want)
			}
		}
	}
	if !strings.Contains(tr(lines), "\\\n") || strings.Contains(tests[4].want, "\n") {
		t.Errorf("merge lines: %q -> %q", tr(lines), tests[4].want)
	}
	// Nothing to damage: a request of short, one-line segments.
	for _, f := range []Fault{{FirstSentence: DamageableSegment}, {OneWord: DamageableSegment}, {MergeLines: DamageableSegment}, {Obey: "HELLO"}} {
		got := breakSegments([]Segment{short, mixed}, nil, f)
		if FormatSegments(got) != FormatSegments(breakSegments([]Segment{short, mixed}, nil, Fault{})) {
			t.Errorf("%+v damaged %q", f, FormatSegments(got))
		}
	}
	// Obey: every segment, when one could hold an instruction.
	for _, s := range breakSegments(segs, nil, Fault{Obey: "HELLO"}) {
		if s.Text != "HELLO" {
			t.Errorf("obey: segment %s = %q", s.ID, s.Text)
		}
	}
}

func TestQuietDamageOverHTTP(t *testing.T) {
	user := "<seg id=\"1\">一</seg>\n<seg id=\"2\">二</seg>"
	s := New(t, Options{Fault: Always(Fault{NestedTag: "2"})})
	c, _ := newClient(s, "")
	resp, err := c.CreateChatCompletion(context.Background(), chatReq(user))
	if err != nil {
		t.Fatal(err)
	}
	want := "<seg id=\"1\">" + Translate("一") + "</seg>\n<seg id=\"2\">" + Translate("二") + "\n<seg id=\"2\">" + Translate("二") + "</seg>"
	if got := resp.Choices[0].Message.Content; got != want {
		t.Errorf("content = %q, want %q", got, want)
	}
}
