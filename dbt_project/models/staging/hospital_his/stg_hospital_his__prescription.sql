{{ union_kind('hospital_his', 'prescription') }}
