# gatehouse_extract_jose_seeds(<corpora dir> <output dir>)
# Seeds for fuzz_tokenverifier, taken from ../shared/corpora at configure time so that no copy
# of those corpora is committed: every compact JWS of the Wycheproof cases and of the RFC 7520
# cookbook, once as sent ("0" + token) and once re-signed with the key its header names
# ("4" + token; the modes are explained in fuzz_tokenverifier.cpp). Where the folder is absent
# (a user's fresh clone) the target starts from its committed seeds alone.
function(gatehouse_extract_jose_seeds corpora output)
    file(REMOVE_RECURSE ${output})
    file(GLOB cookbook ${corpora}/jose-cookbook/jws/*.json ${corpora}/jose-cookbook/curve25519/*.json)
    set(sources ${corpora}/wycheproof-jose/json_web_signature_test.json ${cookbook})
    set(count 0)
    foreach(source ${sources})
        if(NOT EXISTS ${source})
            continue()
        endif()
        # "jws": "…" (Wycheproof) and "compact": "…" (RFC 7520). Wycheproof's JSON-serialised
        # cases are JSON text with escaped quotes, not compact tokens, and are left out.
        file(READ ${source} text)
        string(REGEX MATCHALL "\"(jws|compact)\": \"[^\"\\\\[;]*\"" matches "${text}")
        foreach(match ${matches})
            string(REGEX REPLACE "^\"(jws|compact)\": \"(.*)\"$" "\\2" token "${match}")
            foreach(mode 0 4)
                string(SHA1 name "${mode}${token}")
                file(WRITE ${output}/${name} "${mode}${token}")
            endforeach()
            math(EXPR count "${count} + 1")
        endforeach()
    endforeach()
    if(count EQUAL 0)
        message(STATUS "fuzz: no JOSE corpora at ${corpora}; fuzz_tokenverifier uses its own seeds only")
    else()
        message(STATUS "fuzz: ${count} compact tokens from ${corpora} seed fuzz_tokenverifier")
    endif()
endfunction()
