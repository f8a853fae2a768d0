#pragma once

#include <utility>
#include <variant>

/// A value or an error, for fallible calls that must not throw across the event loop.
/// (std::expected is C++23; this is the small subset the project uses.)
template<typename T, typename E> class Result {
public:
    Result(T value)
        : m_state(std::in_place_index<0>, std::move(value))
    {
    }
    static Result failure(E error) { return Result(std::in_place_index<1>, std::move(error)); }

    bool ok() const { return m_state.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(m_state); }
    const T &value() const & { return std::get<0>(m_state); }
    T &&value() && { return std::get<0>(std::move(m_state)); }
    const T *operator->() const { return &std::get<0>(m_state); }
    T *operator->() { return &std::get<0>(m_state); }
    const T &operator*() const & { return value(); }

    const E &error() const { return std::get<1>(m_state); }

private:
    template<std::size_t I, typename V>
    Result(std::in_place_index_t<I> index, V &&v)
        : m_state(index, std::forward<V>(v))
    {
    }

    std::variant<T, E> m_state;
};

/// The error half of a Result, so that `return fail(AuthError::X);` converts to any Result<T, AuthError>.
template<typename E> struct Failure {
    E error;
    template<typename T, typename Target> operator Result<T, Target>() const
    {
        return Result<T, Target>::failure(Target(error));
    }
};

template<typename E> Failure<E> fail(E error)
{
    return Failure<E> { error };
}
