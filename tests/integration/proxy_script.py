"""A script written for PLECS (xmlrpc.client only): load, simulate one case, a list of 16, close.

proxy_script.py URL MODEL R0 OUT [bad]: writes what PLECS answered to OUT as JSON (floats as Python
writes them, which read back to the same doubles), so two runs compare byte for byte; with "bad", one
case names a variable the model lacks, and OUT holds the fault PLECS answered.
"""
import json
import sys
import xmlrpc.client

url, model, r0, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
plecs = xmlrpc.client.ServerProxy(url)
name = plecs.plecs.load(model)
if sys.argv[5:] == ["bad"]:
    try:
        plecs.plecs.simulate(name, {"ModelVars": {"Rx": r0}})
        answer = "no fault"
    except xmlrpc.client.Fault as fault:
        answer = {"faultCode": fault.faultCode, "faultString": fault.faultString}
else:
    one = plecs.plecs.simulate(name, {"ModelVars": {"R": r0, "C": 1.1e-6}, "SolverOpts": {"MaxStep": 1e-5}})
    many = plecs.plecs.simulate(name, [{"ModelVars": {"R": r0 + i / 3}} for i in range(16)])
    answer = {"name": name, "one": one, "many": many}
plecs.plecs.close(name)
with open(out, "w") as f:
    json.dump(answer, f)
