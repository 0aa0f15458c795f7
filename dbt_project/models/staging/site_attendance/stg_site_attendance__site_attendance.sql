{{ union_kind('site_attendance', 'site_attendance') }}
