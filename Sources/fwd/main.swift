import FwdCore
FwdMain.run()
