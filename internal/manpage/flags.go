package manpage

import "strings"

// Flag is one flag as its flag set's help lists it: its name without
// dashes, the argument type the help printed ("" for a boolean) and its
// usage.
type Flag struct {
	Name, Arg, Usage string
}

// ParseDefaults reads the flags out of flag.PrintDefaults' text: a line
// "  -name type" (or "  -x\tusage") per flag, then "    \tusage" lines.
// Other lines are passed over.
func ParseDefaults(help string) []Flag {
	var flags []Flag
	for line := range strings.SplitSeq(help, "\n") {
		switch {
		case strings.HasPrefix(line, "    \t") && len(flags) > 0:
			f := &flags[len(flags)-1]
			f.Usage = strings.TrimSpace(f.Usage + " " + strings.TrimPrefix(line, "    \t"))
		case strings.HasPrefix(line, "  -"):
			head, usage, _ := strings.Cut(strings.TrimPrefix(line, "  -"), "\t")
			name, arg, _ := strings.Cut(head, " ")
			flags = append(flags, Flag{Name: name, Arg: arg, Usage: usage})
		}
	}
	return flags
}

// ArgOf is the argument a synopsis names for flag f ("-data DIR" gives
// DIR, "--ext EXT[,EXT]" gives EXT[,EXT]), else the type its help
// printed, in capitals; "" for a flag that takes none.
func ArgOf(synopsis string, f Flag) string {
	if f.Arg == "" {
		return ""
	}
	words := synopsisWords(synopsis)
	for i, w := range words[:max(len(words)-1, 0)] {
		if (w == "--"+f.Name || w == "-"+f.Name) && !strings.HasPrefix(words[i+1], "-") {
			return words[i+1]
		}
	}
	return strings.ToUpper(f.Arg)
}

// synopsisWords splits a synopsis into words, a quoted phrase ("Full
// Name") being one, and an option's brackets dropped.
func synopsisWords(synopsis string) []string {
	var words []string
	for i, part := range strings.Split(synopsis, `"`) {
		if i%2 == 1 {
			words = append(words, `"`+part+`"`)
			continue
		}
		for _, w := range strings.Fields(part) {
			w = strings.TrimPrefix(w, "[")
			if strings.Count(w, "]") > strings.Count(w, "[") {
				w = strings.TrimSuffix(w, "]")
			}
			words = append(words, w)
		}
	}
	return words
}

// Dashes is how a command line spells its flags.
type Dashes int

const (
	// SingleDash spells every flag -name, as Go's flag package prints it.
	SingleDash Dashes = iota
	// DoubleDash spells a flag --name, but a one-letter one -x.
	DoubleDash
)

// Spell is flag name as d writes it.
func (d Dashes) Spell(name string) string {
	if d == DoubleDash && len(name) > 1 {
		return "--" + name
	}
	return "-" + name
}
