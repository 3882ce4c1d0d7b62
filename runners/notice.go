package runners

import "cloister/notices"

// Notice is a notice the runners write (package notices renders it).
type Notice = notices.Notice
