package calc

// Example is one row of the sizing guide's disk table.
type Example struct {
	Scenario    string
	Service     Service
	Agents      int     // simultaneous conversations
	HoursPerDay float64 // daily recording time per agent
	Months      int     // retention
	PublishedGB float64 // the disk the guide prints for the row
}

// GB is the row's disk as DiskGB computes it.
func (x Example) GB() float64 {
	return DiskGB(x.Agents, x.HoursPerDay, x.Service.DaysPerMonth, x.Months)
}

// Examples are the seven rows of the published disk table (a help desk and
// a teleselling floor working 8x6, an emergency service working 24x7),
// with the figures the guide prints. DiskGB reproduces every one exactly.
var Examples = []Example{
	{"Help Desk", Service8x6, 4, 6, 6, 54},
	{"Help Desk", Service8x6, 20, 6, 6, 270},
	{"Emergency service", Service24x7, 2, 2, 48, 90},
	{"Emergency service", Service24x7, 10, 2, 48, 450},
	{"Teleselling", Service8x6, 8, 6, 12, 216},
	{"Teleselling", Service8x6, 30, 6, 12, 810},
	{"Teleselling", Service8x6, 60, 6, 12, 1620},
}
