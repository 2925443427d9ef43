"""The Lambda code of ``AccountImdsDefaults``: this folder is the function's asset, as is.

It imports nothing from cdk_imds (only this folder is deployed) and needs only the boto3 of the
Lambda Python runtime.
"""
