import FwdLab
