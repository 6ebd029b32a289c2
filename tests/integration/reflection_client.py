#!/usr/bin/python3
"""A stock gRPC client (Python grpcio) that knows nothing of our contract: it discovers the
services through server reflection, builds the message types from the descriptors the server
sends, and calls AuthService.Login. Usage: reflection_client.py HOST:PORT WORKDIR"""
import importlib.util
import os
import subprocess
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

addr, work = sys.argv[1], sys.argv[2]
# The reflection protocol's own messages come from the grpc-proto package, compiled here.
subprocess.run(["protoc", "-I/usr/share/grpc-proto", f"--python_out={work}",
                "grpc/reflection/v1alpha/reflection.proto"], check=True)
spec = importlib.util.spec_from_file_location(
    "reflection_pb2", os.path.join(work, "grpc/reflection/v1alpha/reflection_pb2.py"))
reflection_pb2 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reflection_pb2)

channel = grpc.insecure_channel(addr)
grpc.channel_ready_future(channel).result(timeout=10)
info = channel.stream_stream(
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
    response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)


def ask(**kwargs):
    return next(iter(info(iter([reflection_pb2.ServerReflectionRequest(**kwargs)]), timeout=10)))


services = sorted(s.name for s in ask(list_services="").list_services_response.service)
print("services:", " ".join(services))
for wanted in ["exam.v1.AuthService", "exam.v1.CandidateService", "exam.v1.EventService",
               "exam.v1.AppealService", "grpc.health.v1.Health"]:
    assert wanted in services, f"{wanted} not listed"

pool = descriptor_pool.DescriptorPool()
files = {}
for raw in ask(file_containing_symbol="exam.v1.AuthService").file_descriptor_response.file_descriptor_proto:
    fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
    files[fd.name] = fd


def add(name):
    fd = files.pop(name, None)
    if fd is None:
        return
    for dep in fd.dependency:
        add(dep)
    pool.Add(fd)


for name in list(files):
    add(name)
service = pool.FindServiceByName("exam.v1.AuthService")
login = service.FindMethodByName("Login")
factory = message_factory.MessageFactory(pool)
Request = factory.GetPrototype(login.input_type)
Response = factory.GetPrototype(login.output_type)
call = channel.unary_unary("/exam.v1.AuthService/Login",
                           request_serializer=Request.SerializeToString,
                           response_deserializer=Response.FromString)
reply = call(Request(username="admin", password="demo"), timeout=10)
assert len(reply.token) == 64, reply
print("Login via reflection: token", reply.token[:8] + "…", "user", reply.user.username)
try:
    call(Request(username="admin", password="nope"), timeout=10)
    raise SystemExit("wrong password accepted")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED, e
print("reflection client OK")
