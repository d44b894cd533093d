package glossary

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		file string
		want string // String() of the result
	}{
		{"names.csv", "马斯克 = Musk; 伊隆·马斯克 = Elon Musk; 奥尔特曼 = Altman; 特朗普 = Trump; 北京大学 = Peking University; 北京 = Beijing"},
		{"names.tsv", "马斯克 = Musk; 奥尔特曼 = Altman; 星际之门 = Stargate"},
		{"names.txt", "马斯克 = Musk; 奥尔特曼 = Altman"},
		{"names.yaml", "马斯克 = Musk; 奥尔特曼 = Altman; 星际之门 = Stargate; 二〇二四 = 2024"},
		{"list.yml", "马斯克 = Musk; 奥尔特曼 = Altman"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			g, err := Load(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := g.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"three-columns.csv", "testdata/three-columns.csv:3: want 2 columns, got 3"},
		{"conflict.csv", `testdata/conflict.csv:3: "马斯克" is "Mask" here but "Musk" on line 1`},
		{"empty-target.yaml", `testdata/empty-target.yaml:2: empty target for "奥尔特曼"`},
		{"missing.csv", "glossary: open testdata/missing.csv: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load("testdata/" + tt.file)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // String() of the glossary, or the error
	}{
		{"g.csv", "", ""},
		{"g.csv", "\ufeffsource,target\n马斯克,Musk\n", "马斯克 = Musk"},
		{"g.csv", "中文,English\n", ""},
		{"g.csv", "马斯克,Musk\n中文,English\n", "马斯克 = Musk; 中文 = English"}, // a header only as the first row
		{"g.csv", `马斯克,"Musk, Elon"` + "\n", "马斯克 = Musk, Elon"},
		{"g.csv", "马斯克,\n", `g.csv:1: empty target for "马斯克"`},
		{"g.csv", ",Musk\n", "g.csv:1: empty source term"},
		{"g.csv", "马斯克\n", "g.csv:1: want 2 columns, got 1"},
		{"g.csv", "a,b\n马斯克,\"Musk\n", `g.csv:2: extraneous or missing " in quoted-field`},
		{"g.csv", "马斯克,Musk;Elon\n", `g.csv:1: "Musk;Elon": ";" is not allowed in a term`},
		{"g.csv", "马斯克,Musk=Elon\n", `g.csv:1: "Musk=Elon": "=" is not allowed in a term`},
		{"g.tsv", "  # comment\n马斯克\tMusk\t\n", "g.tsv:2: want 2 columns, got 3"},
		{"g.tsv", "马斯克,Musk\n", "g.tsv:1: want 2 columns, got 1"},
		{"g.txt", "马斯克\t Musk \n马斯克\tMusk\n", "马斯克 = Musk"},
		{"g.yaml", "", ""},
		{"g.yaml", "- 马斯克\n", "g.yaml:1: want a {source, target} mapping"},
		{"g.yaml", "- source: 马斯克\n  tgt: Musk\n", `g.yaml:2: unknown key "tgt" (want source and target)`},
		{"g.yaml", "- source: 马斯克\n", "g.yaml:1: want both source and target"},
		{"g.yaml", "马斯克: [Musk]\n", "g.yaml:1: want a plain term, not a list or mapping"},
		{"g.yaml", "just text\n", "g.yaml:1: want a mapping of terms or a list of {source, target}"},
		{"g.yaml", "马斯克: Musk\n  bad: indent\n", "g.yaml: yaml: line 2: mapping values are not allowed in this context"},
		{"g.json", "{}", `glossary: g.json: unknown format ".json" (want .csv, .tsv, .txt, .yaml or .yml)`},
		{"g.csv", "马斯克,\xff\n", "glossary: g.csv: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.in, func(t *testing.T) {
			g, err := Read(strings.NewReader(tt.in), tt.name)
			got := g.String()
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestIn(t *testing.T) {
	g := Glossary{
		{"马斯克", "Musk"}, {"伊隆·马斯克", "Elon Musk"}, {"北京", "Beijing"},
		{"北京大学", "Peking University"}, {"奥尔特曼", "Altman"}, {"AI", "KI"},
	}
	tests := []struct {
		text, want string
	}{
		{"没有术语。", ""},
		{"马斯克说。", "马斯克 = Musk"},
		{"伊隆·马斯克说。", "伊隆·马斯克 = Elon Musk"},
		{"伊隆·马斯克说马斯克。", "伊隆·马斯克 = Elon Musk; 马斯克 = Musk"},
		{"他在北京大学。", "北京大学 = Peking University"},
		{"北京的北京大学。", "北京大学 = Peking University; 北京 = Beijing"},
		{"奥尔特曼和马斯克和奥尔特曼", "奥尔特曼 = Altman; 马斯克 = Musk"},
		{"AI芯片", "AI = KI"},
		{"ai芯片", ""}, // exact match
	}
	for _, tt := range tests {
		if got := g.In(tt.text).String(); got != tt.want {
			t.Errorf("In(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	if Glossary(nil).In("马斯克") != nil {
		t.Error("an empty glossary found something")
	}
}

func TestKey(t *testing.T) {
	a := Glossary{{"马斯克", "Musk"}, {"奥尔特曼", "Altman"}}
	tests := []struct {
		name  string
		g     Glossary
		equal bool // Key equals a's
	}{
		{"same", Glossary{{"马斯克", "Musk"}, {"奥尔特曼", "Altman"}}, true},
		{"other order", Glossary{{"奥尔特曼", "Altman"}, {"马斯克", "Musk"}}, true},
		{"other target", Glossary{{"马斯克", "Musk"}, {"奥尔特曼", "Sam Altman"}}, false},
		{"fewer", Glossary{{"马斯克", "Musk"}}, false},
		{"boundary moved", Glossary{{"马斯克", "Musk奥"}, {"尔特曼", "Altman"}}, false},
	}
	for _, tt := range tests {
		if got := tt.g.Key() == a.Key(); got != tt.equal {
			t.Errorf("%s: keys equal = %v, want %v", tt.name, got, tt.equal)
		}
	}
	if Glossary(nil).Key() != "" || (Glossary{}).Key() != "" {
		t.Error("empty glossary has a key")
	}
}
